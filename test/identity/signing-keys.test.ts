/**
 * The development provider's signing keys (next → active → retired →
 * dropped) and its configuration: what is kept in the key file, what a
 * rotation does, and the configuration it refuses.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadIdentityConfig } from "../../services/identity/identity-config.js";
import { loadOrCreateSigningKeys, providerJwks, readSigningKeys, rotateSigningKeys } from "../../services/identity/signing-keys.js";
import { recordSigningKeys } from "./identity-harness.js";

const dir = mkdtempSync(join(tmpdir(), "dx-signing-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the signing key file", () => {
  it("is created once with an active and a next key, readable by its owner only, and read back the same", () => {
    const file = join(dir, "a", "keys.json");
    const created = loadOrCreateSigningKeys(file);
    recordSigningKeys(created);
    expect(created.keys.map((k) => k.state)).toEqual(["active", "next"]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateSigningKeys(file)).toEqual(created);
  });

  it("rotates: next becomes active, active retires and stays published, a new next appears; retired keys go after their retention", () => {
    const file = join(dir, "b.json");
    const k0 = loadOrCreateSigningKeys(file);
    const t0 = new Date();
    const k1 = rotateSigningKeys(file, { retainSeconds: 900, now: t0 });
    recordSigningKeys(k1);
    expect(k1.activeKid).toBe(k0.keys.find((k) => k.state === "next")!.kid);
    expect(k1.keys.map((k) => [k.kid === k0.activeKid ? "old" : k.kid === k1.activeKid ? "promoted" : "new", k.state])).toEqual([
      ["old", "retired"],
      ["promoted", "active"],
      ["new", "next"],
    ]);
    const k2 = rotateSigningKeys(file, { retainSeconds: 900, now: new Date(t0.getTime() + 600_000) });
    recordSigningKeys(k2);
    expect(k2.keys.filter((k) => k.state === "retired")).toHaveLength(2);
    const k3 = rotateSigningKeys(file, { retainSeconds: 900, now: new Date(t0.getTime() + 1_000_000) });
    recordSigningKeys(k3);
    // The first key retired at t0: past its 900 s, it is no longer published.
    expect(k3.keys.map((k) => k.kid)).not.toContain(k0.activeKid);
    expect(k3.keys.filter((k) => k.state === "retired")).toHaveLength(2);
  });

  it("gives oidc-provider the active key first (it signs with the first that fits) and publishes every key", () => {
    const keys = rotateSigningKeys(join(dir, "c.json"), { retainSeconds: 900 });
    recordSigningKeys(keys);
    const jwks = providerJwks(keys).keys;
    expect(jwks[0]!.kid).toBe(keys.activeKid);
    expect(jwks.map((k) => k.kid).sort()).toEqual(keys.keys.map((k) => k.kid).sort());
    expect(jwks.every((k) => k.alg === "RS256" && k.use === "sig")).toBe(true);
  });

  it("refuses a damaged file, saying how to start again", () => {
    const file = join(dir, "d.json");
    writeFileSync(file, "{}");
    expect(() => readSigningKeys(file)).toThrow(/is not valid .*delete it to start with new keys/);
    const good = loadOrCreateSigningKeys(join(dir, "e.json"));
    recordSigningKeys(good);
    const text = JSON.parse(readFileSync(good.file, "utf8")) as { keys: { state: string }[] };
    text.keys[1]!.state = "active";
    writeFileSync(file, JSON.stringify(text));
    expect(() => readSigningKeys(file)).toThrow(/has 2 active keys; it needs exactly one/);
  });
});

describe("the provider's configuration", () => {
  it("listens on 127.0.0.1:9000 by default, for the transfer service on 8000", () => {
    expect(loadIdentityConfig({})).toMatchObject({
      host: "127.0.0.1",
      port: 9000,
      webOrigins: ["http://127.0.0.1:8000", "http://localhost:8000"],
      accessTokenTtlSeconds: 600,
      audiences: { records: "dataexchange-records", transfer: "dataexchange-transfer" },
    });
  });

  it("refuses to listen beyond the loopback interface unless told to, since its passwords are public", () => {
    expect(() => loadIdentityConfig({ IDENTITY_HOST: "0.0.0.0" })).toThrow(/IDENTITY_HOST: 0.0.0.0 is not a loopback address/);
    expect(loadIdentityConfig({ IDENTITY_HOST: "0.0.0.0", IDENTITY_ALLOW_REMOTE: "1" }).host).toBe("0.0.0.0");
  });

  it("refuses origins that are not origins, and bad values, naming the variable", () => {
    expect(() => loadIdentityConfig({ IDENTITY_WEB_ORIGINS: "http://127.0.0.1:8000/app" })).toThrow(/IDENTITY_WEB_ORIGINS: http:\/\/127.0.0.1:8000\/app is not an origin/);
    expect(() => loadIdentityConfig({ IDENTITY_WEB_ORIGINS: "ftp://x" })).toThrow(/IDENTITY_WEB_ORIGINS/);
    expect(() => loadIdentityConfig({ IDENTITY_PORT: "70000" })).toThrow(/IDENTITY_PORT/);
    expect(() => loadIdentityConfig({ IDENTITY_ACCESS_TOKEN_TTL_SECONDS: "0" })).toThrow(/IDENTITY_ACCESS_TOKEN_TTL_SECONDS/);
  });
});
