/**
 * The UI's session store against the real development provider: an access
 * token about to expire is refreshed with the refresh token (which rotates),
 * concurrent calls share one refresh, and a refresh the provider refuses
 * signs the person out instead of failing every call after it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_IDS } from "../../services/identity/dev-clients.js";
import { SessionStore } from "../../web/src/auth/session-store.js";
import { jwtClaims, sessionOf } from "../../web/src/auth/oidc.js";
import { recordSecret } from "../support/run-secrets.js";
import { TestBrowser } from "../support/test-browser.js";
import { discover, startTestIdentity, webSignIn, type TestIdentity } from "../identity/identity-harness.js";

let identity: TestIdentity;

beforeAll(async () => {
  identity = await startTestIdentity();
});
afterAll(() => identity?.close());

/** A store holding a fresh sign-in of `username` whose access token expires now. */
async function expiringSession(username: string): Promise<SessionStore> {
  const tokens = await webSignIn(await discover(identity.issuer), new TestBrowser(), username);
  const store = new SessionStore({ issuer: identity.issuer, clientId: CLIENT_IDS.web });
  store.set({ ...sessionOf(tokens), expiresAt: Date.now() });
  return store;
}

describe("the web UI's session", () => {
  it("reads the person's subject, name and roles from the sign-in's tokens", async () => {
    const store = await expiringSession("analyst");
    expect(store.session).toMatchObject({ subject: "analyst", name: "Ann Analyst (no personal data)", roles: ["exporter"] });
  });

  it("refreshes an access token about to expire, once for concurrent callers, with a rotated refresh token", async () => {
    const store = await expiringSession("exporter");
    const before = store.session!;
    const seen: unknown[] = [];
    store.subscribe((s) => seen.push(s));
    const [a, b] = await Promise.all([store.accessToken(), store.accessToken()]);
    for (const token of [a, store.session?.refreshToken, store.session?.idToken]) if (token) recordSecret("token", token);
    expect(a).toBeTruthy();
    expect(a).toBe(b);
    expect(a).not.toBe(before.accessToken);
    // Still a token for the transfer service: the refresh keeps the sign-in's resource.
    expect(jwtClaims(a!)).toMatchObject({ aud: "dataexchange-transfer", sub: "exporter" });
    expect(store.session!.refreshToken).not.toBe(before.refreshToken);
    expect(store.session!.expiresAt).toBeGreaterThan(Date.now() + 60_000);
    expect(store.session).toMatchObject({ subject: "exporter", name: "Eve Exporter", roles: ["exporter", "pii"] });
    // Sign-out sends it as id_token_hint: a refresh keeps one (the provider sends a new one).
    expect(store.session!.idToken).toMatch(/^ey/);
    expect(seen).toHaveLength(1);
    // Valid for a while now: no second refresh.
    expect(await store.accessToken()).toBe(a);
  });

  it("signs out when the provider refuses the refresh token (already used: rotation)", async () => {
    const store = await expiringSession("exporter");
    const stale = store.session!;
    await store.accessToken();
    const replay = new SessionStore(store.config);
    replay.set(stale);
    expect(await replay.accessToken()).toBeUndefined();
    expect(replay.session).toBeUndefined();
  });
});
