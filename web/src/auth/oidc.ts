/**
 * The browser's side of sign-in: OpenID Connect Authorization Code with PKCE
 * (S256) against the provider the transfer service names in
 * /web-config.json, with oauth4webapi (which runs in browsers as in Node).
 *
 * Where things are kept, and why:
 * - The sign-in in progress (PKCE verifier, state, nonce) in sessionStorage,
 *   because the page is left for the provider's sign-in page and loaded
 *   again at /auth/callback; it is read once there and removed. It is bound
 *   to this tab, and useless without the code the provider sends back.
 * - The tokens in memory only (a module variable): no script of another
 *   origin can read them, and closing or reloading the tab drops them. A
 *   reload signs in again through the provider's session without a password.
 *   Refresh tokens rotate on every use and end with the provider session.
 */
import * as oauth from "oauth4webapi";

export interface WebConfig {
  issuer: string | null;
  clientId: string;
}

export interface Session {
  accessToken: string;
  /** Epoch milliseconds after which the access token is refused. */
  expiresAt: number;
  refreshToken?: string;
  idToken?: string;
  subject: string;
  name: string;
  roles: string[];
}

/** The resource indicator of the transfer service: its tokens carry its audience. */
export const TRANSFER_RESOURCE = "urn:dataexchange:transfer";
const PENDING_KEY = "dx.sign-in";
export const CALLBACK_PATH = "/auth/callback";

/** Plain-HTTP issuers are allowed on the loopback interface only (the development provider). */
function requestOptions(issuer: string) {
  const host = new URL(issuer).hostname;
  return host === "127.0.0.1" || host === "localhost" || host === "[::1]" ? { [oauth.allowInsecureRequests]: true } : {};
}

export async function loadWebConfig(): Promise<WebConfig> {
  const response = await fetch("/web-config.json", { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`the transfer service answered ${response.status} for /web-config.json`);
  return (await response.json()) as WebConfig;
}

const discovered = new Map<string, Promise<oauth.AuthorizationServer>>();

/** The provider's metadata, fetched once per page. */
export function discover(issuer: string): Promise<oauth.AuthorizationServer> {
  let found = discovered.get(issuer);
  if (!found) {
    const url = new URL(issuer);
    found = oauth.discoveryRequest(url, requestOptions(issuer)).then((response) => oauth.processDiscoveryResponse(url, response));
    found.catch(() => discovered.delete(issuer));
    discovered.set(issuer, found);
  }
  return found;
}

const redirectUri = () => `${window.location.origin}${CALLBACK_PATH}`;

/** Leaves for the provider's sign-in page. */
export async function startSignIn(config: WebConfig): Promise<never> {
  if (!config.issuer) throw new Error("sign-in is not configured on this transfer service (no issuer)");
  const as = await discover(config.issuer);
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state, nonce, back: window.location.hash }));
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: config.clientId,
    response_type: "code",
    redirect_uri: redirectUri(),
    scope: "openid profile",
    resource: TRANSFER_RESOURCE,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  }).toString();
  window.location.assign(url.href);
  return new Promise<never>(() => {});
}

/** At /auth/callback: checks state, exchanges the code with the verifier, checks the ID token's nonce. Returns the session and where to go back to. */
export async function completeSignIn(config: WebConfig, callback: URL): Promise<{ session: Session; back: string }> {
  const pending = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  if (!pending) throw new Error("this sign-in was not started in this tab (or was already completed); sign in again");
  if (!config.issuer) throw new Error("sign-in is not configured on this transfer service (no issuer)");
  const { verifier, state, nonce, back } = JSON.parse(pending) as { verifier: string; state: string; nonce: string; back: string };
  const as = await discover(config.issuer);
  const client = { client_id: config.clientId };
  const params = oauth.validateAuthResponse(as, client, callback, state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri(), verifier, requestOptions(config.issuer));
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce, requireIdToken: true });
  return { session: sessionOf(tokens), back: back || "#/export" };
}

/** A new access token with the refresh token (which rotates). */
export async function refreshSession(config: WebConfig, session: Session): Promise<Session> {
  if (!config.issuer || !session.refreshToken) throw new Error("the session cannot be refreshed; sign in again");
  const as = await discover(config.issuer);
  const client = { client_id: config.clientId };
  const response = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), session.refreshToken, requestOptions(config.issuer));
  const tokens = await oauth.processRefreshTokenResponse(as, client, response);
  const next = sessionOf(tokens, session);
  return next;
}

/** Leaves for the provider's end_session endpoint, which ends its session (and the refresh tokens) and comes back to `/`. */
export async function signOut(config: WebConfig, session: Session | undefined): Promise<never> {
  if (!config.issuer) throw new Error("sign-in is not configured on this transfer service (no issuer)");
  const as = await discover(config.issuer);
  if (!as.end_session_endpoint) {
    window.location.assign("/");
    return new Promise<never>(() => {});
  }
  const url = new URL(as.end_session_endpoint);
  url.searchParams.set("client_id", config.clientId);
  url.searchParams.set("post_logout_redirect_uri", `${window.location.origin}/`);
  if (session?.idToken) url.searchParams.set("id_token_hint", session.idToken);
  window.location.assign(url.href);
  return new Promise<never>(() => {});
}

/** The session a token response gives; `previous` fills what a refresh response leaves out. */
export function sessionOf(tokens: oauth.TokenEndpointResponse, previous?: Session): Session {
  const claims = jwtClaims(tokens.access_token);
  const id = oauth.getValidatedIdTokenClaims(tokens);
  const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === "string") : [];
  const subject = typeof claims.sub === "string" ? claims.sub : (previous?.subject ?? "");
  return {
    accessToken: tokens.access_token,
    expiresAt: Date.now() + (tokens.expires_in ?? 60) * 1000,
    refreshToken: tokens.refresh_token ?? previous?.refreshToken,
    idToken: tokens.id_token ?? previous?.idToken,
    subject,
    name: typeof id?.name === "string" ? id.name : (previous?.name ?? subject),
    roles,
  };
}

/**
 * The claims of a JWT access token, read without verifying it: only to show
 * the person's roles and to hide what they cannot do. The transfer service
 * verifies every token and decides every call.
 */
export function jwtClaims(token: string): Record<string, unknown> {
  const payload = token.split(".")[1];
  if (!payload) return {};
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const text = new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {};
  }
}
