/**
 * The plain-HTTP guard (401/403 JSON for the transfer service's routes), the
 * configuration from the environment, the development keys and the
 * `npm run token` script.
 */
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RECORDS_ACCESS_POLICY, permission } from "../../services/records/access-policy.js";
import { AUDIENCES, DEV_ISSUER, createVerifierFromConfig, ensureDevKeys, loadAuthConfig, requireHttpAuth, requireHttpPermission, signDevToken } from "../../services/shared/auth/index.js";
import { TRANSFER_AUDIENCE, edKeys, token, verifierFor } from "./support.js";
import { recordPrivateKey, recordSecret } from "../support/run-secrets.js";

const RECORDS = { variable: "DX_AUTH_AUDIENCE_RECORDS", fallback: AUDIENCES.records };

describe("the plain HTTP guard", () => {
  const keys = edKeys();
  const auth = { verifier: verifierFor(keys, TRANSFER_AUDIENCE), policy: RECORDS_ACCESS_POLICY };
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      void (async () => {
        const principal = await requireHttpAuth(req, res, auth);
        if (!principal) return;
        if (!requireHttpPermission(principal, permission("read", "users"), res)) return;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ subject: principal.subject }));
      })();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/export/csv`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("answers 401 JSON with a Bearer challenge when the token is missing", async () => {
    const response = await fetch(url);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="dataexchange"');
    expect(await response.json()).toEqual({ code: "unauthenticated", reason: "missing", message: expect.stringContaining("missing bearer token") });
  });

  it("answers 401 JSON naming the failed check for a bad token, never echoing it", async () => {
    const jwt = await token(keys, { roles: ["exporter"], aud: "dataexchange-records" });
    const response = await fetch(url, { headers: { authorization: `Bearer ${jwt}` } });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/error="invalid_token", error_description="token audience does not include 'dataexchange-transfer'"/);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ code: "unauthenticated", reason: "audience" });
    expect(text).not.toContain(jwt.split(".")[2]);
  });

  it("answers 403 JSON when the principal lacks the permission, and lets a permitted caller through", async () => {
    const denied = await fetch(url, { headers: { authorization: `Bearer ${await token(keys, { roles: ["importer"], aud: TRANSFER_AUDIENCE })}` } });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ code: "permission_denied" });
    const ok = await fetch(url, { headers: { authorization: `Bearer ${await token(keys, { roles: ["exporter"], aud: TRANSFER_AUDIENCE, sub: "hal" })}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ subject: "hal" });
  });
});

describe("configuration from the environment", () => {
  it("refuses to start outside dev mode without a key source or an issuer", () => {
    expect(() => loadAuthConfig({}, RECORDS)).toThrow(/no token key configured[\s\S]*DX_AUTH_ISSUER is required/);
  });

  it("refuses both a JWKS URL and a key file, symmetric algorithms, and bad values", () => {
    expect(() => loadAuthConfig({ DX_AUTH_ISSUER: "i", DX_AUTH_JWKS_URL: "https://id.example/jwks", DX_AUTH_PUBLIC_KEY_FILE: "/k.pem" }, RECORDS)).toThrow(/not both/);
    expect(() => loadAuthConfig({ DX_AUTH_ISSUER: "i", DX_AUTH_JWKS_URL: "https://id.example/jwks", DX_AUTH_ALGORITHMS: "HS256" }, RECORDS)).toThrow(/HS256/);
    expect(() => loadAuthConfig({ DX_AUTH_ISSUER: "i", DX_AUTH_JWKS_URL: "https://id.example/jwks", DX_AUTH_REFLECTION: "open" }, RECORDS)).toThrow(/DX_AUTH_REFLECTION/);
  });

  it("reads a production configuration", () => {
    const config = loadAuthConfig(
      {
        DX_AUTH_ISSUER: "https://id.example/realms/lms",
        DX_AUTH_JWKS_URL: "https://id.example/jwks",
        DX_AUTH_AUDIENCE_RECORDS: "records-api",
        DX_AUTH_ALGORITHMS: "RS256",
        DX_AUTH_REFLECTION: "authenticated",
      },
      RECORDS,
    );
    expect(config).toMatchObject({
      issuers: ["https://id.example/realms/lms"],
      audience: "records-api",
      algorithms: ["RS256"],
      clockSkewSeconds: 30,
      reflection: "authenticated",
      keySource: { kind: "jwks" },
    });
  });

  it("in dev mode trusts the development key, so a minted token verifies", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dx-dev-keys-"));
    const config = loadAuthConfig({ NODE_ENV: "development", DX_DEV_KEYS_DIR: dir }, RECORDS);
    expect(config).toMatchObject({ issuers: [DEV_ISSUER], audience: AUDIENCES.records, keySource: { kind: "dev", dir } });
    const verifier = createVerifierFromConfig(config);
    const keys = ensureDevKeys(dir);
    recordPrivateKey(keys.privateKey);
    const verified = await verifier.verify(recordSecret("token", await signDevToken({ roles: ["admin", "pii"], subject: "ivy", keys })));
    expect(verified).toMatchObject({ subject: "ivy", roles: ["admin", "pii"] });
    await expect(verifier.verify(recordSecret("token", await signDevToken({ roles: ["admin"], audience: AUDIENCES.transfer, keys })))).rejects.toMatchObject({ reason: "audience" });
  });
});

describe("the development keys", () => {
  it("are created once, private key readable by its owner only, and reused", () => {
    const dir = mkdtempSync(join(tmpdir(), "dx-dev-keys-"));
    const first = ensureDevKeys(dir);
    expect(statSync(first.privateKeyFile).mode & 0o077).toBe(0);
    const second = ensureDevKeys(dir);
    expect(second.kid).toBe(first.kid);
    expect(second.publicKey.export({ format: "jwk" })).toEqual(first.publicKey.export({ format: "jwk" }));
  });

  it("refuse a private key file that is not Ed25519, saying how to regenerate", () => {
    const dir = mkdtempSync(join(tmpdir(), "dx-dev-keys-"));
    writeFileSync(join(dir, "private.pem"), generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }));
    expect(() => ensureDevKeys(dir)).toThrow(/is not an Ed25519 key; delete .* to regenerate it/);
  });

  it("npm run token prints a token the dev-mode verifier accepts, and nothing else on stdout", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dx-dev-keys-"));
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/token.ts", "--roles", "exporter,pii", "--sub", "jules", "--ttl", "120"], {
      env: { ...process.env, DX_DEV_KEYS_DIR: dir },
    });
    expect(stderr).toContain("token for jules");
    const jwt = stdout.trim();
    expect(jwt.split(".")).toHaveLength(3);
    const verifier = createVerifierFromConfig(loadAuthConfig({ DX_AUTH_DEV: "1", DX_DEV_KEYS_DIR: dir }, RECORDS));
    const verified = await verifier.verify(jwt);
    expect(verified).toMatchObject({ subject: "jules", roles: ["exporter", "pii"] });
    expect(verified.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(120_000);
  });
});
