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
import { CLIENT_IDS, DEV_CLIENT_SECRETS, RESOURCES } from "../../services/identity/dev-clients.js";
import { buildRecordsServer, type RunningRecordsServer } from "../../services/records/server.js";
import { AUDIENCES, createVerifierFromConfig, loadAuthConfig } from "../../services/shared/auth/index.js";
import { buildTransferServer, type RunningTransferServer } from "../../services/transfer/server.js";
import { serviceCredentialFromEnv, staticCredential } from "../../services/transfer/records/service-credential.js";
import { openTestDatabase, type TestDatabase } from "../support/database.js";
import { withTestFormatMode } from "../support/format-workers.js";
import { recordSecret } from "../support/run-secrets.js";
import { testServiceLogger } from "../support/service-logger.js";
import { TestBrowser, textOf } from "../support/test-browser.js";
import { freePort } from "../../scripts/lib/ferretdb.js";
import { startTestIdentity, submitLogin, type TestIdentity } from "../identity/identity-harness.js";
import { bundleDx, dx, startDx, type DxBundle } from "./dx-harness.js";

let identity: TestIdentity;
let recordsDb: TestDatabase;
let transferDb: TestDatabase;
let records: RunningRecordsServer;
let transfer: RunningTransferServer;
let bundle: DxBundle;

beforeAll(async () => {
  bundle = await bundleDx();
  identity = await startTestIdentity({ IDENTITY_ACCESS_TOKEN_TTL_SECONDS: "20" });
  const env = { DX_AUTH_ISSUER: identity.issuer, DX_AUTH_JWKS_URL: identity.server.jwksUrl };
  recordsDb = await openTestDatabase("dxl_records");
  transferDb = await openTestDatabase("dxl_jobs");
  records = await buildRecordsServer({
    db: recordsDb.db,
    port: 0,
    auth: { verifier: createVerifierFromConfig(loadAuthConfig(env, { variable: "DX_AUTH_AUDIENCE_RECORDS", fallback: AUDIENCES.records })) },
    logger: testServiceLogger("records"),
  });
  const credential = serviceCredentialFromEnv({
    ...env,
    DX_TRANSFER_CLIENT_ID: CLIENT_IDS.transferService,
    DX_TRANSFER_CLIENT_SECRET: DEV_CLIENT_SECRETS[CLIENT_IDS.transferService],
    DX_TRANSFER_TOKEN_RESOURCE: RESOURCES.records,
  });
  transfer = await buildTransferServer({
    db: transferDb.db,
    recordsUrl: records.url,
    config: withTestFormatMode({}),
    port: 0,
    auth: {
      verifier: createVerifierFromConfig(loadAuthConfig(env, { variable: "DX_AUTH_AUDIENCE_TRANSFER", fallback: AUDIENCES.transfer })),
      serviceCredential: staticCredential(async () => recordSecret("service credential", await credential.token()), credential.description),
    },
    logger: testServiceLogger("transfer"),
  });
});
afterAll(async () => {
  await transfer?.close();
  await records?.close();
  await transferDb?.close();
  await recordsDb?.close();
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
