/**
 * The verifier: a valid token passes; every way a token can be wrong is
 * refused with the reason that names the failed check, and no message ever
 * repeats the token.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportJWK } from "jose";
import { AuthError, bearerToken, createTokenVerifier, loadKeyFile, remoteKeySet, type AuthFailureReason, type TokenVerifier } from "../../services/shared/auth/index.js";
import { ISSUER, RECORDS_AUDIENCE, TRANSFER_AUDIENCE, edKeys, hs256WithPublicKey, rsaKeys, token, unsecuredToken, verifierFor } from "./support.js";
import { recordSecret } from "../support/run-secrets.js";

const ed = edKeys();
const rsa = rsaKeys();
const edVerifier = verifierFor(ed);
const rsaVerifier = verifierFor(rsa);

async function reasonOf(verifier: TokenVerifier, jwt: string): Promise<{ reason: AuthFailureReason; message: string }> {
  try {
    await verifier.verify(jwt);
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    const e = error as AuthError;
    // The message names the check and never echoes the token or its signature.
    expect(e.message).not.toContain(jwt);
    const signature = jwt.split(".")[2];
    if (signature && signature.length > 16) expect(e.message).not.toContain(signature);
    return { reason: e.reason, message: e.message };
  }
  throw new Error("the token was accepted");
}

describe("a valid token", () => {
  it("is accepted with its subject, roles, issuer, audience and expiry (EdDSA and RS256)", async () => {
    for (const [keys, verifier] of [
      [ed, edVerifier],
      [rsa, rsaVerifier],
    ] as const) {
      const verified = await verifier.verify(await token(keys, { roles: ["exporter", "pii"], sub: "alice" }));
      expect(verified).toMatchObject({ subject: "alice", roles: ["exporter", "pii"], issuer: ISSUER, audience: [RECORDS_AUDIENCE] });
      expect(verified.expiresAt.getTime()).toBeGreaterThan(Date.now());
    }
  });

  it("is accepted when expired or not yet valid by less than the 30 s clock skew", async () => {
    await expect(edVerifier.verify(await token(ed, { expIn: -10 }))).resolves.toBeTruthy();
    await expect(edVerifier.verify(await token(ed, { nbfIn: 10 }))).resolves.toBeTruthy();
  });

  it("reads roles from a space-separated string and from a nested claim", async () => {
    expect((await edVerifier.verify(await token(ed, { claims: { roles: "importer pii" } }))).roles).toEqual(["importer", "pii"]);
    const nested = createTokenVerifier({ key: { kind: "key", key: ed.publicKey, source: "t" }, issuer: ISSUER, audience: RECORDS_AUDIENCE, algorithms: ["EdDSA"], rolesClaim: "realm_access.roles" });
    expect((await nested.verify(await token(ed, { claims: { realm_access: { roles: ["admin"] } } }))).roles).toEqual(["admin"]);
  });

  it("accepts an audience list that includes this service", async () => {
    await expect(edVerifier.verify(await token(ed, { aud: [TRANSFER_AUDIENCE, RECORDS_AUDIENCE] }))).resolves.toBeTruthy();
  });
});

describe("the authorization header", () => {
  it("is refused as missing when absent or empty", () => {
    for (const header of [undefined, null, "", "   "]) {
      expect(() => bearerToken(header)).toThrow(expect.objectContaining({ reason: "missing", message: expect.stringContaining("missing bearer token") }));
    }
  });

  it("is refused as malformed with another scheme or extra words, and takes Bearer case-insensitively", () => {
    expect(() => bearerToken("Basic YWxhZGRpbjpvcGVuc2VzYW1l")).toThrow(expect.objectContaining({ reason: "malformed", message: expect.stringContaining("Bearer") }));
    expect(() => bearerToken("Bearer a b")).toThrow(expect.objectContaining({ reason: "malformed" }));
    expect(bearerToken("bearer abc.def.ghi")).toBe("abc.def.ghi");
  });
});

describe("a bad token is refused, saying which check failed", () => {
  it("malformed: not three base64url parts, garbage parts, or huge", async () => {
    expect((await reasonOf(edVerifier, "not-a-jwt")).reason).toBe("malformed");
    expect((await reasonOf(edVerifier, "a.b")).reason).toBe("malformed");
    expect((await reasonOf(edVerifier, "e30.e30.e30")).reason).toBe("malformed");
    expect((await reasonOf(edVerifier, "eyJ!.x.y")).reason).toBe("malformed");
    expect((await reasonOf(edVerifier, `${"a".repeat(20_000)}.b.c`)).reason).toBe("malformed");
  });

  it("expired beyond the clock skew", async () => {
    const { reason, message } = await reasonOf(edVerifier, await token(ed, { expIn: -120 }));
    expect(reason).toBe("expired");
    expect(message).toMatch(/token expired at .* clock skew of 30 s/);
  });

  it("not yet valid beyond the clock skew", async () => {
    const { reason, message } = await reasonOf(edVerifier, await token(ed, { nbfIn: 120 }));
    expect(reason).toBe("not_yet_valid");
    expect(message).toContain("nbf");
  });

  it("for another audience (a transfer-service token replayed at the records service)", async () => {
    const { reason, message } = await reasonOf(edVerifier, await token(ed, { aud: TRANSFER_AUDIENCE }));
    expect(reason).toBe("audience");
    expect(message).toBe(`token audience does not include "${RECORDS_AUDIENCE}"`);
  });

  it("from another issuer", async () => {
    const { reason, message } = await reasonOf(edVerifier, await token(ed, { iss: "https://evil.example" }));
    expect(reason).toBe("issuer");
    expect(message).toContain(ISSUER);
  });

  it("forged: signed by another key of the same type", async () => {
    expect((await reasonOf(edVerifier, await token(edKeys()))).reason).toBe("signature");
    expect((await reasonOf(rsaVerifier, await token(rsaKeys()))).reason).toBe("signature");
  });

  it("forged: a valid token whose payload was swapped", async () => {
    const [header, , signature] = (await token(ed, { roles: ["exporter"] })).split(".");
    const payload = Buffer.from(JSON.stringify({ sub: "alice", roles: ["admin"], iss: ISSUER, aud: RECORDS_AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600 })).toString("base64url");
    expect((await reasonOf(edVerifier, `${header}.${payload}.${signature}`)).reason).toBe("signature");
  });

  it("unsecured: alg none", async () => {
    const { reason, message } = await reasonOf(edVerifier, unsecuredToken());
    expect(reason).toBe("algorithm");
    expect(message).toContain('"none" is not allowed');
  });

  it("algorithm confusion: HS256 signed with the RSA or Ed25519 public key", async () => {
    for (const [keys, verifier] of [
      [rsa, rsaVerifier],
      [ed, edVerifier],
    ] as const) {
      const { reason, message } = await reasonOf(verifier, hs256WithPublicKey(keys.publicKey));
      expect(reason).toBe("algorithm");
      expect(message).toContain('"HS256" is not allowed');
    }
  });

  it("an allowed algorithm that does not fit the key (RS256 at an Ed25519 key)", async () => {
    const { reason } = await reasonOf(edVerifier, await token(rsa));
    expect(reason).toBe("algorithm");
  });

  it("without sub or exp", async () => {
    expect(await reasonOf(edVerifier, await token(ed, { sub: null }))).toMatchObject({ reason: "claims", message: 'token has no "sub" claim' });
    expect(await reasonOf(edVerifier, await token(ed, { expIn: null }))).toMatchObject({ reason: "claims", message: 'token has no "exp" claim' });
  });

  it("with a roles claim that is not a list of strings", async () => {
    expect((await reasonOf(edVerifier, await token(ed, { claims: { roles: [1, 2] } }))).reason).toBe("claims");
  });
});

describe("configuration", () => {
  it("refuses symmetric algorithms and none in the allow-list", () => {
    for (const algorithms of [["HS256"], ["none"], [], ["RS256", "HS512"]]) {
      expect(() => verifierFor(ed, RECORDS_AUDIENCE, algorithms)).toThrow(/algorithm/);
    }
  });

  it("pins the algorithms to what the key can verify, and fails at start when none fit", () => {
    expect(() => verifierFor(ed, RECORDS_AUDIENCE, ["RS256"])).toThrow(/ed25519 key .* verifies EdDSA/);
    expect(() => verifierFor(rsa, RECORDS_AUDIENCE, ["EdDSA"])).toThrow(/rsa key/);
  });

  it("loads PEM, JWK and JWKS files, and refuses private keys", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dx-keys-"));
    const pem = join(dir, "public.pem");
    writeFileSync(pem, rsa.publicKey.export({ type: "spki", format: "pem" }));
    const jwk = join(dir, "public.jwk.json");
    writeFileSync(jwk, JSON.stringify(await exportJWK(ed.publicKey)));
    const jwks = join(dir, "jwks.json");
    writeFileSync(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(ed.publicKey)), kid: "k1", alg: "EdDSA" }] }));
    const priv = join(dir, "private.pem");
    writeFileSync(priv, rsa.privateKey.export({ type: "pkcs8", format: "pem" }));

    const make = (path: string) => createTokenVerifier({ key: loadKeyFile(path), issuer: ISSUER, audience: RECORDS_AUDIENCE, algorithms: ["RS256", "EdDSA"] });
    await expect(make(pem).verify(await token(rsa))).resolves.toBeTruthy();
    await expect(make(jwk).verify(await token(ed))).resolves.toBeTruthy();
    await expect(make(jwks).verify(await token(ed))).resolves.toBeTruthy();
    expect(() => loadKeyFile(priv)).toThrow(/private key/);
    expect(() => loadKeyFile(join(dir, "missing.pem"))).toThrow(/cannot read .*ENOENT/);
  });
});

describe("a remote JWKS", () => {
  let server: Server;
  let url: string;
  let kidKeys: Record<string, unknown>;
  beforeAll(async () => {
    kidKeys = { keys: [{ ...(await exportJWK(ed.publicKey)), kid: "current", alg: "EdDSA", use: "sig" }] };
    server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(kidKeys));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const remote = (jwksUrl: string) => createTokenVerifier({ key: remoteKeySet(jwksUrl, { timeoutMs: 2000 }), issuer: ISSUER, audience: RECORDS_AUDIENCE, algorithms: ["EdDSA"] });
  const withKid = async (kid: string) => {
    const { SignJWT } = await import("jose");
    return recordSecret(
      "token",
      await new SignJWT({ roles: ["exporter"] })
        .setProtectedHeader({ alg: "EdDSA", kid })
        .setSubject("alice")
        .setIssuer(ISSUER)
        .setAudience(RECORDS_AUDIENCE)
        .setExpirationTime("5m")
        .sign(ed.privateKey),
    );
  };

  it("verifies a token whose kid it serves", async () => {
    await expect(remote(url).verify(await withKid("current"))).resolves.toMatchObject({ subject: "alice" });
  });

  it("refuses a token with an unknown kid", async () => {
    expect((await reasonOf(remote(url), await withKid("rotated-away"))).reason).toBe("unknown_key");
  });

  it("reports an unreachable key set as unavailable (503), not as a bad token", async () => {
    const failure = await reasonOf(remote("http://127.0.0.1:1/jwks.json"), await withKid("current"));
    expect(failure.reason).toBe("key_unavailable");
    expect(new AuthError(failure.reason, failure.message).httpStatus).toBe(503);
  });
});
