/**
 * The development provider in-process for the identity tests — the real
 * server (oidc-provider, our sign-in page) on a free port, with its signing
 * keys in a fresh folder — and what the tests do with it as its clients do:
 * a person signing in through a test browser, a backend asking for client
 * credentials.
 *
 * Every secret that passes through is recorded for the run's log secrets
 * check: the development accounts' passwords and the clients' secrets, the
 * provider's private signing keys, and every token a test obtains.
 */
import { createPrivateKey } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as oauth from "oauth4webapi";
import { signInWithBrowser, type TokenSet } from "../../services/shared/oidc-client/index.js";
import { DEV_ACCOUNTS, type DevAccount } from "../../services/identity/dev-accounts.js";
import { CLIENT_IDS, DEV_CLIENT_SECRETS, RESOURCES, webRedirectUri } from "../../services/identity/dev-clients.js";
import { loadIdentityConfig, type IdentityConfig } from "../../services/identity/identity-config.js";
import { startIdentityServer, type IdentityServer } from "../../services/identity/identity-server.js";
import type { SigningKeys } from "../../services/identity/signing-keys.js";
import { recordPrivateKey, recordSecret } from "../support/run-secrets.js";
import { testServiceLogger } from "../support/service-logger.js";
import { TestBrowser, type Page } from "../support/test-browser.js";

/** The origin the web UI client is registered for in these tests (nothing listens there; the browser stops at it). */
export const WEB_ORIGIN = "http://127.0.0.1:18000";
export const WEB_REDIRECT_URI = webRedirectUri(WEB_ORIGIN);

/** The development passwords and client secrets: public, but they must still never reach a log. */
export function recordDevSecrets(): void {
  for (const account of DEV_ACCOUNTS) recordSecret("password", account.password);
  for (const secret of Object.values(DEV_CLIENT_SECRETS)) recordSecret("fixture secret", secret);
}

/** The provider's private signing keys, in the forms a leak would show them. */
export function recordSigningKeys(keys: SigningKeys): void {
  for (const key of keys.keys) recordPrivateKey(createPrivateKey({ key: key.jwk as import("node:crypto").JsonWebKey, format: "jwk" }));
}

export interface TestIdentity {
  server: IdentityServer;
  issuer: string;
  config: IdentityConfig;
  /** Rotates the keys (and records the new private key). */
  rotateKeys(): SigningKeys;
  close(): Promise<void>;
}

/** Starts the provider on a free port with its own key file. */
export async function startTestIdentity(env: NodeJS.ProcessEnv = {}): Promise<TestIdentity> {
  recordDevSecrets();
  const dir = mkdtempSync(join(tmpdir(), "dx-identity-"));
  const config = loadIdentityConfig({ IDENTITY_PORT: "0", IDENTITY_KEYS_FILE: join(dir, "signing-keys.json"), IDENTITY_WEB_ORIGINS: WEB_ORIGIN, ...env });
  const server = await startIdentityServer({ config, logger: testServiceLogger("identity"), keyFilePollMs: 100 });
  recordSigningKeys(server.keys());
  return {
    server,
    issuer: server.issuer,
    config,
    rotateKeys() {
      const keys = server.rotateKeys();
      recordSigningKeys(keys);
      return keys;
    },
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The provider's metadata, as a client discovers it. */
export async function discover(issuer: string): Promise<oauth.AuthorizationServer> {
  const url = new URL(issuer);
  return oauth.processDiscoveryResponse(url, await oauth.discoveryRequest(url, { [oauth.allowInsecureRequests]: true }));
}

/** Client credentials of a development backend; the token is recorded. */
export async function clientCredentialsToken(
  issuer: string,
  clientId: keyof typeof DEV_CLIENT_SECRETS,
  resource?: string,
  secret: string = DEV_CLIENT_SECRETS[clientId],
): Promise<oauth.TokenEndpointResponse> {
  const as = await discover(issuer);
  const client = { client_id: clientId };
  const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(secret), resource ? { resource } : {}, { [oauth.allowInsecureRequests]: true });
  const result = await oauth.processClientCredentialsResponse(as, client, response);
  recordSecret("token", result.access_token);
  return result;
}

/** One account by username. */
export function account(username: string): DevAccount {
  const found = DEV_ACCOUNTS.find((a) => a.username === username);
  if (!found) throw new Error(`no development account ${username}`);
  return found;
}

/** On the sign-in page: fills in the account and submits, following redirects until `stopAt`. */
export function submitLogin(browser: TestBrowser, page: Page, username: string, stopAt?: (url: URL) => boolean, password = account(username).password): Promise<Page> {
  return browser.submit(page, { fields: { username, password }, stopAt });
}

/** A web UI sign-in in progress: what the UI keeps in memory between the redirect out and the one back. */
export interface WebSignIn {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

/** The authorization request the web UI makes (Authorization Code, PKCE S256, state, nonce, the transfer service as resource). */
export async function webAuthorizationRequest(as: oauth.AuthorizationServer, extra: Record<string, string> = {}): Promise<WebSignIn> {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint!);
  const params: Record<string, string> = {
    client_id: CLIENT_IDS.web,
    response_type: "code",
    redirect_uri: WEB_REDIRECT_URI,
    scope: "openid profile",
    resource: RESOURCES.transfer,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
    ...extra,
  };
  for (const [k, v] of Object.entries(params)) if (v !== "") url.searchParams.set(k, v);
  return { url, verifier, state, nonce };
}

/** True for the web UI's redirect URI: the test browser stops there (nothing serves it yet). */
export const atWebCallback = (url: URL) => url.href.startsWith(WEB_REDIRECT_URI);

/** The web UI's side of the callback: check state, exchange the code with the verifier, check the ID token's nonce. */
export async function webExchange(as: oauth.AuthorizationServer, signIn: WebSignIn, callbackUrl: string): Promise<oauth.TokenEndpointResponse> {
  const client = { client_id: CLIENT_IDS.web };
  const params = oauth.validateAuthResponse(as, client, new URL(callbackUrl), signIn.state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, WEB_REDIRECT_URI, signIn.verifier, { [oauth.allowInsecureRequests]: true });
  const result = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: signIn.nonce, requireIdToken: true });
  recordTokens(result);
  return result;
}

/** Records every token of a token response. */
export function recordTokens(result: Partial<oauth.TokenEndpointResponse>): void {
  for (const value of [result.access_token, result.refresh_token, result.id_token]) if (typeof value === "string") recordSecret("token", value);
}

/** A whole web UI sign-in as `username` in `browser`: the tokens. */
export async function webSignIn(as: oauth.AuthorizationServer, browser: TestBrowser, username: string): Promise<oauth.TokenEndpointResponse> {
  const signIn = await webAuthorizationRequest(as);
  const login = await browser.navigate(signIn.url, { stopAt: atWebCallback });
  const back = login.stopped ? login : await submitLogin(browser, login, username, atWebCallback);
  if (!back.stopped) throw new Error(`the sign-in did not come back to the web UI: ${back.status} ${back.url}\n${back.text.slice(0, 300)}`);
  return webExchange(as, signIn, back.url);
}

export interface CliSignIn {
  tokens: TokenSet;
  /** The authorization URL the command line opened. */
  opened: URL;
  /** The page the browser landed on, back at the command line's loopback listener. */
  landed: Page;
}

/**
 * A command line's sign-in (services/shared/oidc-client, loopback redirect)
 * as `username`, the browser part played by a test browser; `before` runs
 * first with the URL the command line opened. Its tokens are recorded.
 */
export async function cliSignIn(issuer: string, username: string, options: { resources?: string[]; browser?: TestBrowser; before?: (url: URL) => Promise<void> } = {}): Promise<CliSignIn> {
  const browser = options.browser ?? new TestBrowser();
  let opened: URL | undefined;
  let landed: Page | undefined;
  const tokens = await signInWithBrowser({
    issuer,
    clientId: CLIENT_IDS.cli,
    resources: options.resources ?? [RESOURCES.transfer, RESOURCES.records],
    openBrowser: async (url) => {
      opened = url;
      await options.before?.(url);
      landed = await submitLogin(browser, await browser.navigate(url), username);
    },
  });
  recordTokenSet(tokens);
  return { tokens, opened: opened!, landed: landed! };
}

/** Records a token set's refresh and ID tokens (they change on every refresh: call again after one). */
export function recordTokenSet(tokens: TokenSet): TokenSet {
  for (const value of [tokens.refreshToken, tokens.idToken]) if (value) recordSecret("token", value);
  return tokens;
}
