/**
 * The web UI's sign-in against the running development provider, over HTTP
 * as a browser does it: Authorization Code with PKCE (S256 only), the sign-in
 * page, no consent page, exact redirect URIs, state and nonce, refresh tokens
 * that rotate and end with the provider session, and sign-out.
 */
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_IDS, RESOURCES } from "../../services/identity/dev-clients.js";
import { TestBrowser, formsOf, textOf } from "../support/test-browser.js";
import {
  WEB_ORIGIN,
  WEB_REDIRECT_URI,
  account,
  atWebCallback,
  discover,
  recordTokens,
  startTestIdentity,
  submitLogin,
  webAuthorizationRequest,
  webExchange,
  webSignIn,
  type TestIdentity,
} from "./identity-harness.js";

let identity: TestIdentity;
let as: oauth.AuthorizationServer;
const web = { client_id: CLIENT_IDS.web };
const insecure = { [oauth.allowInsecureRequests]: true } as const;

beforeAll(async () => {
  identity = await startTestIdentity();
  as = await discover(identity.issuer);
});
afterAll(() => identity?.close());

/** A refresh at the token endpoint as the web UI does it; the raw response, so refusals can be read. */
async function refresh(refreshToken: string): Promise<oauth.TokenEndpointResponse> {
  const response = await oauth.refreshTokenGrantRequest(as, web, oauth.None(), refreshToken, insecure);
  const result = await oauth.processRefreshTokenResponse(as, web, response);
  recordTokens(result);
  return result;
}

describe("the web UI's sign-in (Authorization Code + PKCE)", () => {
  it("shows the sign-in page, then comes back to the transfer service's origin with a code, and the code buys a JWT access token for the transfer service with the person's roles", async () => {
    const browser = new TestBrowser();
    const signIn = await webAuthorizationRequest(as);
    const login = await browser.navigate(signIn.url, { stopAt: atWebCallback });
    expect(login.status).toBe(200);
    expect(new URL(login.url).pathname).toMatch(/^\/interaction\/[\w-]+$/);
    expect(textOf(login)).toContain("Sign in to continue to Data Exchange web UI");
    expect(login.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(login.headers.get("x-frame-options")).toBe("DENY");
    expect(login.headers.get("cache-control")).toBe("no-store");

    const back = await submitLogin(browser, login, "importer", atWebCallback);
    expect(back.stopped).toBe(true);
    const callback = new URL(back.url);
    expect(callback.origin + callback.pathname).toBe(WEB_REDIRECT_URI);
    expect(callback.searchParams.get("state")).toBe(signIn.state);
    expect(callback.searchParams.get("iss")).toBe(identity.issuer);

    const tokens = await webExchange(as, signIn, back.url);
    expect(tokens.token_type).toBe("bearer");
    expect(tokens.expires_in).toBe(600);
    expect(typeof tokens.refresh_token).toBe("string");

    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(as.jwks_uri!)), { issuer: identity.issuer, audience: "dataexchange-transfer", typ: "at+jwt" });
    expect(protectedHeader).toMatchObject({ alg: "RS256", kid: identity.server.keys().activeKid });
    expect(payload).toMatchObject({ sub: "importer", client_id: CLIENT_IDS.web, roles: ["importer", "pii"] });
    expect(payload.exp! - payload.iat!).toBe(600);

    const id = oauth.getValidatedIdTokenClaims(tokens)!;
    expect(id).toMatchObject({ sub: "importer", aud: CLIENT_IDS.web, nonce: signIn.nonce, name: "Ian Importer" });
  });

  it("never shows a consent page to the first-party UI, and a second sign-in in the same browser needs no password (the provider's session)", async () => {
    const browser = new TestBrowser();
    await webSignIn(as, browser, "exporter");
    const visited = browser.history.map((line) => new URL(line.split(" ")[1]!).pathname);
    expect(visited.filter((path) => path.startsWith("/interaction/"))).toHaveLength(2); // the page, and its post
    const again = await webAuthorizationRequest(as, { prompt: "none" });
    const back = await browser.navigate(again.url, { stopAt: atWebCallback });
    expect(back.stopped).toBe(true);
    const tokens = await webExchange(as, again, back.url);
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: "exporter", roles: ["exporter", "pii"] });
  });

  it("gives the account without pii a token without it", async () => {
    const tokens = await webSignIn(as, new TestBrowser(), "analyst");
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: "analyst", roles: ["exporter"] });
  });

  it("answers a wrong password or an unknown user with 401 and the same message, keeps the username, and never echoes the password", async () => {
    for (const [username, password] of [
      ["admin", "not-the-password"],
      ["nobody", account("admin").password],
    ] as const) {
      const browser = new TestBrowser();
      const login = await browser.navigate((await webAuthorizationRequest(as)).url);
      const refused = await submitLogin(browser, login, username, atWebCallback, password);
      expect(refused.status).toBe(401);
      expect(textOf(refused)).toContain("Wrong username or password.");
      expect(refused.text).not.toContain(password);
      expect(
        formsOf(refused)
          .find((f) => f.id === "sign-in")!
          .querySelector("input[name=username]")!
          .getAttribute("value"),
      ).toBe(username);
      // The form still works after a failure.
      const back = await submitLogin(browser, refused, "admin", atWebCallback);
      expect(back.stopped).toBe(true);
    }
  });

  it("refuses a sign-in form with fields it does not take, and a form posted for another sign-in", async () => {
    const browser = new TestBrowser();
    const login = await browser.navigate((await webAuthorizationRequest(as)).url);
    const extra = await browser.submit(login, { fields: { username: "admin", password: account("admin").password, remember: "1" } });
    expect(extra.status).toBe(400);
    expect(textOf(extra)).toContain("fields this page does not take: remember");

    // Another browser (no interaction cookie) posting to this sign-in's form.
    const other = new TestBrowser();
    const foreign = await other.submit(login, { fields: { username: "admin", password: account("admin").password } });
    expect(foreign.status).toBe(400);
    expect(textOf(foreign)).toContain("expired or was opened in another browser");
  });

  it("ends the sign-in with access_denied when the person cancels", async () => {
    const browser = new TestBrowser();
    const signIn = await webAuthorizationRequest(as);
    const login = await browser.navigate(signIn.url);
    const cancelled = await browser.submit(login, { formId: "cancel", stopAt: atWebCallback });
    expect(cancelled.stopped).toBe(true);
    expect(Object.fromEntries(new URL(cancelled.url).searchParams)).toMatchObject({ error: "access_denied", state: signIn.state });
  });
});

describe("what a reviewer checks", () => {
  it("requires PKCE: a request without a code challenge, or with the plain method, is refused", async () => {
    for (const extra of [{ code_challenge: "", code_challenge_method: "" }, { code_challenge_method: "plain" }] as Record<string, string>[]) {
      const signIn = await webAuthorizationRequest(as, extra);
      const back = await new TestBrowser().navigate(signIn.url, { stopAt: atWebCallback });
      expect(back.stopped).toBe(true);
      expect(new URL(back.url).searchParams.get("error")).toBe("invalid_request");
    }
  });

  it("refuses a code exchanged with the wrong verifier", async () => {
    const browser = new TestBrowser();
    const signIn = await webAuthorizationRequest(as);
    const back = await submitLogin(browser, await browser.navigate(signIn.url), "admin", atWebCallback);
    await expect(webExchange(as, { ...signIn, verifier: oauth.generateRandomCodeVerifier() }, back.url)).rejects.toMatchObject({ error: "invalid_grant" });
  });

  it("matches redirect URIs exactly: a trailing slash, an extra query or another origin gets an error page, and the browser is sent nowhere", async () => {
    for (const uri of [`${WEB_REDIRECT_URI}/`, `${WEB_REDIRECT_URI}?next=/admin`, `http://localhost:18000/auth/callback`, "https://attacker.example/auth/callback"]) {
      const signIn = await webAuthorizationRequest(as, { redirect_uri: uri });
      const page = await new TestBrowser().navigate(signIn.url, { stopAt: () => true });
      expect([uri, page.stopped, page.status]).toEqual([uri, false, 400]);
      expect(textOf(page)).toContain("redirect_uri did not match any of the client's registered redirect_uris");
    }
  });

  it("sends back the state it was given, which the UI checks (a callback with another state is refused by the client)", async () => {
    const browser = new TestBrowser();
    const signIn = await webAuthorizationRequest(as);
    const back = await submitLogin(browser, await browser.navigate(signIn.url), "admin", atWebCallback);
    expect(() => oauth.validateAuthResponse(as, web, new URL(back.url), "another-state")).toThrow(/state/);
  });

  it("puts the nonce in the ID token, which the UI checks", async () => {
    const browser = new TestBrowser();
    const signIn = await webAuthorizationRequest(as);
    const back = await submitLogin(browser, await browser.navigate(signIn.url), "admin", atWebCallback);
    await expect(webExchange(as, { ...signIn, nonce: "another-nonce" }, back.url)).rejects.toThrow(/nonce/);
  });

  it("rotates the refresh token on every use, and refuses a used one", async () => {
    const first = await webSignIn(as, new TestBrowser(), "auditor");
    const second = await refresh(first.refresh_token!);
    expect(second.refresh_token).toBeDefined();
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(decodeJwt(second.access_token)).toMatchObject({ sub: "auditor", aud: "dataexchange-transfer", roles: ["auditor", "pii"] });
    await expect(refresh(first.refresh_token!)).rejects.toMatchObject({ error: "invalid_grant" });
  });

  it("signs out at the provider: the session ends, a silent sign-in needs the password again, and the UI's refresh token stops working", async () => {
    const browser = new TestBrowser();
    const tokens = await webSignIn(as, browser, "admin");
    const end = new URL(as.end_session_endpoint!);
    end.searchParams.set("id_token_hint", tokens.id_token!);
    end.searchParams.set("post_logout_redirect_uri", `${WEB_ORIGIN}/`);
    end.searchParams.set("client_id", CLIENT_IDS.web);
    const confirm = await browser.navigate(end);
    expect(textOf(confirm)).toContain("Sign out of Data Exchange on this browser?");
    const out = await browser.submit(confirm, { formId: "op.logoutForm", button: { name: "logout", value: "yes" }, stopAt: (url) => url.origin === WEB_ORIGIN });
    expect(out.stopped).toBe(true);
    expect(out.url).toBe(`${WEB_ORIGIN}/`);

    const silent = await webAuthorizationRequest(as, { prompt: "none" });
    const back = await browser.navigate(silent.url, { stopAt: atWebCallback });
    expect(new URL(back.url).searchParams.get("error")).toBe("login_required");
    await expect(refresh(tokens.refresh_token!)).rejects.toMatchObject({ error: "invalid_grant" });
  });

  it("lets the browser call the token endpoint from the transfer service's origin only (CORS)", async () => {
    const preflight = (origin: string) => fetch(as.token_endpoint!, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } });
    expect((await preflight(WEB_ORIGIN)).headers.get("access-control-allow-origin")).toBe(WEB_ORIGIN);
    const body = new URLSearchParams({ grant_type: "refresh_token", refresh_token: "x", client_id: CLIENT_IDS.web });
    const other = await fetch(as.token_endpoint!, { method: "POST", headers: { origin: "https://attacker.example", "content-type": "application/x-www-form-urlencoded" }, body });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    await other.text();
  });

  it("gives the UI a token for the transfer service only: asking for the records service is refused", async () => {
    const signIn = await webAuthorizationRequest(as, { resource: RESOURCES.records });
    const back = await new TestBrowser().navigate(signIn.url, { stopAt: atWebCallback });
    expect(Object.fromEntries(new URL(back.url).searchParams)).toMatchObject({ error: "invalid_target" });
  });

  it("publishes RS256 keys, the active one signing, with kids", async () => {
    const jwks = (await (await fetch(as.jwks_uri!)).json()) as { keys: { kid: string; alg: string; d?: string }[] };
    expect(jwks.keys.map((k) => k.kid).sort()).toEqual(
      identity.server
        .keys()
        .keys.map((k) => k.kid)
        .sort(),
    );
    expect(jwks.keys.every((k) => k.alg === "RS256" && k.d === undefined)).toBe(true);
    const tokens = await webSignIn(as, new TestBrowser(), "admin");
    expect(decodeProtectedHeader(tokens.id_token!).kid).toBe(identity.server.keys().activeKid);
  });
});
