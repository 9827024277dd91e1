/**
 * What `npm start` does about sign-in, and the two scripts that must agree
 * with it: `npm run token` (refused when the services would not trust its
 * key) and `npm run seed` (its own token when they would, else an error that
 * says which variable and roles).
 */
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { envPort, stackAuth, stackPorts } from "../../scripts/lib/dev-stack.js";
import { SEED_SUBJECT, seedToken } from "../../scripts/seed/seed-token.js";
import { AUDIENCES, createVerifierFromConfig, ensureDevKeys, loadAuthConfig } from "../../services/shared/auth/index.js";
import { recordSecret } from "../support/run-secrets.js";

const RECORDS = { variable: "DX_AUTH_AUDIENCE_RECORDS", fallback: AUDIENCES.records };

describe("npm start's sign-in", () => {
  it("runs the development provider and points both services at it, trusting the development key too", () => {
    const auth = stackAuth({}, { identity: 9000, transfer: 8000 });
    expect(auth.identity).toMatchObject({ issuer: "http://127.0.0.1:9000", port: 9000, env: { IDENTITY_WEB_ORIGINS: "http://127.0.0.1:8000,http://localhost:8000" } });
    expect(auth.servicesEnv).toEqual({ DX_AUTH_DEV: "1", DX_AUTH_ISSUER: "http://127.0.0.1:9000", DX_AUTH_JWKS_URL: "http://127.0.0.1:9000/jwks", DX_AUTH_TRUST_DEV_KEY: "1" });
    expect(auth.transferEnv).toMatchObject({ DX_TRANSFER_CLIENT_ID: "transfer-service", DX_TRANSFER_TOKEN_RESOURCE: "urn:dataexchange:records" });
    expect(auth.devKeyTrusted).toBe(true);
    // What the services make of it: the provider, and the development key for its own issuer.
    const config = loadAuthConfig(auth.servicesEnv, RECORDS);
    expect(config).toMatchObject({ issuers: ["http://127.0.0.1:9000"], keySource: { kind: "jwks", url: "http://127.0.0.1:9000/jwks" }, devKey: expect.anything() });
  });

  it("stops trusting the development key with DX_AUTH_TRUST_DEV_KEY=0", () => {
    const auth = stackAuth({ DX_AUTH_TRUST_DEV_KEY: "0" }, { identity: 9000, transfer: 8000 });
    expect([auth.devKeyTrusted, auth.servicesEnv.DX_AUTH_TRUST_DEV_KEY]).toEqual([false, "0"]);
    expect(loadAuthConfig(auth.servicesEnv, RECORDS).devKey).toBeUndefined();
  });

  it("runs no provider when the environment names one, and trusts the development key only as that configuration says", () => {
    const external = stackAuth({ DX_AUTH_ISSUER: "https://sso.example.org/realms/lms" });
    expect([external.identity, external.servicesEnv, external.devKeyTrusted]).toEqual([undefined, {}, false]);
    const dir = mkdtempSync(join(tmpdir(), "dx-stack-keys-"));
    const devPublicKey = stackAuth({ DX_AUTH_ISSUER: "dataexchange-dev", DX_AUTH_PUBLIC_KEY_FILE: ensureDevKeys(dir).publicKeyFile, DX_DEV_KEYS_DIR: dir });
    expect(devPublicKey.devKeyTrusted).toBe(true);
    expect(stackAuth({ DX_AUTH_JWKS_URL: "https://id.example/jwks" }).description).toMatch(/DX_AUTH_ISSUER is required outside dev mode/);
  });
});

describe("npm run token", () => {
  it("refuses, saying how to sign in instead, when the services would not trust its key", async () => {
    const run = promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/token.ts", "--roles", "admin"], { env: { ...process.env, DX_AUTH_TRUST_DEV_KEY: "0" } });
    await expect(run).rejects.toMatchObject({ code: 2, stdout: "", stderr: expect.stringContaining("the services do not trust the development key in this environment") });
    await expect(run).rejects.toMatchObject({ stderr: expect.stringContaining("TOKEN=$(npm run -s sign-in)") });
  });
});

describe("npm run seed's token", () => {
  it("is DX_TOKEN when set", async () => {
    expect(await seedToken({ DX_TOKEN: " given.token.value " })).toEqual({ value: "given.token.value", source: "token from DX_TOKEN" });
  });

  it("is minted with the development key when the services trust it: an admin token for the records service", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dx-seed-keys-"));
    const { value, source } = await seedToken({ DX_DEV_KEYS_DIR: dir });
    recordSecret("token", value);
    expect(source).toBe("as seed (role admin) with the development key");
    const verifier = createVerifierFromConfig(loadAuthConfig({ DX_AUTH_DEV: "1", DX_DEV_KEYS_DIR: dir }, RECORDS));
    expect(await verifier.verify(value)).toMatchObject({ subject: SEED_SUBJECT, roles: ["admin"], audience: ["dataexchange-records"] });
  });

  it("is refused before anything is sent when they do not, naming the variable and the roles", async () => {
    await expect(seedToken({ DX_AUTH_TRUST_DEV_KEY: "0" })).rejects.toThrow(
      /^DX_TOKEN is not set\.\nnpm run seed needs a token for the records service \(audience dataexchange-records\) with role admin \(or importer and exporter\): set DX_TOKEN/,
    );
  });
});

describe("the ports npm start uses", () => {
  it("are the defaults when the variables are unset or empty, else the port they spell", () => {
    expect(stackPorts({})).toEqual({ identity: 9000, transfer: 8000 });
    expect(stackPorts({ IDENTITY_PORT: "", TRANSFER_PORT: " 8001 " })).toEqual({ identity: 9000, transfer: 8001 });
    expect(envPort({ RECORDS_PORT: "0" }, "RECORDS_PORT", 50051)).toBe(0);
  });

  it("are refused, naming the variable, when blank, hex or past 65535, instead of read as port 0 or 8080", () => {
    for (const bad of [" ", "0x1F90", "65536", "80.5"])
      expect(() => envPort({ RECORDS_PORT: bad }, "RECORDS_PORT", 50051), bad).toThrow(`RECORDS_PORT must be a port number (0 to 65535), not ${JSON.stringify(bad)}`);
  });
});
