/**
 * A person signs in from a command line through their browser (what `dx
 * login` does): Authorization Code with PKCE and a loopback redirect, as
 * RFC 8252 (OAuth 2.0 for Native Apps) describes.
 *
 * 1. Listen on 127.0.0.1, on a port the system picks, for `/callback`.
 * 2. Open the provider's authorization URL in the browser (the caller's
 *    `openBrowser` does that, or prints it) with a fresh PKCE verifier (S256),
 *    `state` and `nonce`.
 * 3. The browser comes back to `http://127.0.0.1:<port>/callback?code=…`.
 *    A callback whose `state` is not this sign-in's is answered 400 and
 *    ignored (another page cannot finish the sign-in for us), and the
 *    sign-in keeps waiting; an error from the provider (the person cancelled)
 *    ends it with that error.
 * 4. The code is exchanged with the verifier; the ID token's `nonce`, issuer,
 *    audience and expiry are checked (oauth4webapi).
 *
 * The page the browser lands on says to go back to the terminal, and the
 * listener is closed once the sign-in ends, however it ends.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import * as oauth from "oauth4webapi";
import { describeOAuthError, discoverAuthorizationServer, issuerUrl, requestOptions } from "./authorization-server.js";
import { TokenSet } from "./token-set.js";

/** Scopes asked for unless told otherwise: who signed in, and a refresh token that outlives the browser session. */
export const DEFAULT_SIGN_IN_SCOPE = "openid profile offline_access";

export interface PersonSignInOptions {
  issuer: string;
  /** A public client registered for this flow (the development provider: `dataexchange-cli`). */
  clientId: string;
  /** Resource indicators of the services the tokens are for; the first is the default of `accessToken()`. */
  resources?: readonly string[];
  /** Default {@link DEFAULT_SIGN_IN_SCOPE}. */
  scope?: string;
  /**
   * The `prompt` of the authorization request (browser sign-in). Default
   * `consent` when the scope has `offline_access`: OpenID Connect Core (§11)
   * grants a refresh token that outlives the browser session only then. The
   * development provider shows first-party clients no consent page for it; a
   * provider that does can be given `""` (no prompt).
   */
  prompt?: string;
  /** Gives up after this long; default 5 minutes. */
  timeoutMs?: number;
  /** Aborts the sign-in. */
  signal?: AbortSignal;
}

export interface LoopbackSignInOptions extends PersonSignInOptions {
  /** Opens (or prints) the authorization URL for the person. */
  openBrowser: (url: URL) => void | Promise<void>;
  /** The path of the redirect the client registered; default `/callback`. */
  callbackPath?: string;
}

/** Signs a person in through their browser; resolves with their tokens. */
export async function signInWithBrowser(options: LoopbackSignInOptions): Promise<TokenSet> {
  const as = await discoverAuthorizationServer(options.issuer);
  if (!as.authorization_endpoint) throw new Error(`${options.issuer} has no authorization endpoint`);
  const client: oauth.Client = { client_id: options.clientId };
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const callbackPath = options.callbackPath ?? "/callback";

  let settle!: { resolve: (tokens: TokenSet) => void; reject: (error: Error) => void };
  const done = new Promise<TokenSet>((resolve, reject) => (settle = { resolve, reject }));
  // It may settle while openBrowser still runs (the person cancelled at once): awaited below all the same.
  done.catch(() => undefined);
  let redirectUri = "";

  const server = createServer((req, res) => {
    void handleCallback(req, res).catch((error: unknown) => {
      if (!res.headersSent) respond(res, 500, "Sign-in failed", describeOAuthError(error));
      settle.reject(error instanceof Error ? error : new Error(String(error)));
    });
  });

  async function handleCallback(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", redirectUri);
    if (req.method !== "GET" || url.pathname !== callbackPath) return respond(res, 404, "Not found", "This address only receives the sign-in's redirect.");
    if (url.searchParams.get("state") !== state) return respond(res, 400, "Not this sign-in", "This page does not belong to the sign-in your command line is waiting for.");
    let params: URLSearchParams;
    try {
      params = oauth.validateAuthResponse(as, client, url, state);
    } catch (error) {
      respond(res, 400, "Sign-in failed", describeOAuthError(error));
      throw new Error(`the sign-in failed: ${describeOAuthError(error)}`, { cause: error });
    }
    const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, verifier, requestOptions(issuerUrl(options.issuer)));
    const result = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce, requireIdToken: true });
    const tokens = new TokenSet({ issuer: options.issuer, clientId: options.clientId, as, resource: options.resources?.[0], response: result, subject: oauth.getValidatedIdTokenClaims(result)?.sub });
    respond(res, 200, "Signed in", `You are signed in${tokens.subject ? ` as ${tokens.subject}` : ""}. You can close this page and return to your terminal.`);
    settle.resolve(tokens);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const timer = setTimeout(() => settle.reject(new Error(`the sign-in was not completed within ${Math.round((options.timeoutMs ?? 300_000) / 1000)} s`)), options.timeoutMs ?? 300_000);
  const onAbort = () => settle.reject(new Error("the sign-in was cancelled"));
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}${callbackPath}`;
    const authorize = new URL(as.authorization_endpoint);
    authorize.searchParams.set("client_id", options.clientId);
    authorize.searchParams.set("response_type", "code");
    authorize.searchParams.set("redirect_uri", redirectUri);
    const scope = options.scope ?? DEFAULT_SIGN_IN_SCOPE;
    authorize.searchParams.set("scope", scope);
    const prompt = options.prompt ?? (scope.split(" ").includes("offline_access") ? "consent" : "");
    if (prompt) authorize.searchParams.set("prompt", prompt);
    authorize.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(verifier));
    authorize.searchParams.set("code_challenge_method", "S256");
    authorize.searchParams.set("state", state);
    authorize.searchParams.set("nonce", nonce);
    for (const resource of options.resources ?? []) authorize.searchParams.append("resource", resource);
    await options.openBrowser(authorize);
    return await done;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    server.closeAllConnections();
    server.close();
  }
}

function respond(res: ServerResponse, status: number, title: string, message: string): void {
  const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const html = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body style="font-family:system-ui,sans-serif;margin:48px auto;max-width:32em"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>`;
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
    "referrer-policy": "no-referrer",
    connection: "close",
  });
  res.end(html);
}
