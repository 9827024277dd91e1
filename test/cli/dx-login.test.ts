/**
 * `dx login` through the OpenID Connect provider the services trust (the
 * development provider, started here with 20-second access tokens, so every
 * later command must renew its token through the kept refresh token): the
 * browser sign-in with a loopback redirect and the device grant, played by
 * a test browser; the token file (0600) and its rotation; logout.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_IDS } from "../../services/identity/dev-clients.js";
import type { RunningTransferServer } from "../../services/transfer/server.js";
import { recordSecret } from "../support/run-secrets.js";
import { TestBrowser, textOf } from "../support/test-browser.js";
import { freePort } from "../../scripts/lib/ferretdb.js";
import { startServicesTrustingProvider } from "../identity/services-trusting-provider.js";
import { startTestIdentity, submitLogin, type TestIdentity } from "../identity/identity-harness.js";
import { bundleDx, dx, startDx, type DxBundle } from "./dx-harness.js";

let identity: TestIdentity;
let transfer: RunningTransferServer;
let closeServices: (() => Promise<void>) | undefined;
let bundle: DxBundle;

beforeAll(async () => {
  bundle = await bundleDx();
  identity = await startTestIdentity({ IDENTITY_ACCESS_TOKEN_TTL_SECONDS: "20" });
  ({ transfer, close: closeServices } = await startServicesTrustingProvider(identity, ["dxl_records", "dxl_jobs"]));
});
afterAll(async () => {
  await closeServices?.();
  await identity?.close();
  bundle?.remove();
});

interface TokenFile {
  accessToken: string;
  refreshToken?: string;
  issuer?: string;
  clientId?: string;
  subject?: string;
}

function tokenFile(): TokenFile {
  const path = join(bundle.dir, "token.json");
  expect(statSync(path).mode & 0o777).toBe(0o600);
  const stored = JSON.parse(readFileSync(path, "utf8")) as TokenFile;
  for (const value of [stored.accessToken, stored.refreshToken]) if (value) recordSecret("token", value);
  return stored;
}

describe("dx login", () => {
  it("signs in through the browser, keeps the sign-in 0600, renews the token on later commands, and logs out", async () => {
    const login = startDx(bundle, ["login", "--issuer", identity.issuer]);
    const [address] = await login.waitFor("stderr", /http:\/\/127\.0\.0\.1:\d+\/auth\?\S+/);
    const browser = new TestBrowser();
    await submitLogin(browser, await browser.navigate(address), "importer");
    const signedIn = await login.result;
    expect(signedIn.code).toBe(0);
    expect(signedIn.stdout).toMatch(/^signed in as importer at http:\/\/127\.0\.0\.1:\d+; kept in .*token\.json/);
    const first = tokenFile();
    expect(first).toMatchObject({ issuer: identity.issuer, clientId: CLIENT_IDS.cli, subject: "importer", refreshToken: expect.any(String) });

    // The access token lives 20 s, less than the 30 s a command wants: this one renews it, and keeps the rotated refresh token.
    const jobs = await dx(bundle, ["jobs", "--mine", "--server", transfer.url]);
    expect(jobs.stderr).toBe("");
    expect(jobs.code).toBe(0);
    const renewed = tokenFile();
    expect(renewed.accessToken).not.toBe(first.accessToken);
    expect(renewed.refreshToken).not.toBe(first.refreshToken);

    const logout = await dx(bundle, ["logout"]);
    expect(logout.code).toBe(0);
    expect((await dx(bundle, ["logout"])).stdout).toMatch(/^not signed in/);
    // The revoked refresh token no longer renews anything.
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(bundle.dir, "token.json"), JSON.stringify(renewed), { mode: 0o600 });
    const after = await dx(bundle, ["jobs", "--server", transfer.url]);
    expect(after.code).toBe(3);
    expect(after.stderr).toMatch(/sign in again with "dx login"/);
  });

  it("signs in with a code confirmed on another device", async () => {
    const login = startDx(bundle, ["login", "--device", "--issuer", identity.issuer]);
    const [, link, code] = await login.waitFor("stderr", /open (\S+) on any device \(the page shows (\S+);/);
    const browser = new TestBrowser();
    const confirm = await browser.submit(await browser.navigate(link!));
    expect(textOf(confirm)).toContain(code);
    await submitLogin(browser, await browser.submit(confirm, { formId: "op.deviceConfirmForm" }), "auditor");
    const signedIn = await login.result;
    expect(signedIn.code).toBe(0);
    expect(signedIn.stdout).toMatch(/^signed in as auditor/);
    expect(tokenFile().subject).toBe("auditor");
    const audit = await dx(bundle, ["audit", "--server", transfer.url]);
    expect(audit.code).toBe(0);
  });

  it("says so in one line when the provider cannot be reached", async () => {
    const issuer = `http://127.0.0.1:${await freePort()}`;
    const r = await dx(bundle, ["login", "--issuer", issuer]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(`dx: cannot reach the identity provider at ${issuer}: connection refused — is "npm start" running? (or give --issuer)\n`);
  });
});
