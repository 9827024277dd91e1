/**
 * Where the verifier's trusted keys come from: a local public key file (PEM,
 * X.509 certificate, JWK or a JWKS document) or a remote JWKS URL.
 *
 * Algorithms are pinned twice: by configuration (the allow-list) and by the
 * key itself — a local key only ever verifies the algorithms its type can
 * produce, so an RSA key can never be used as an HMAC secret (the classic
 * "HS256 signed with the public key" confusion) and `none` never verifies.
 */
import { X509Certificate, createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from "jose";
import { describeOAuthError, discoverAuthorizationServer } from "../oidc-client/authorization-server.js";
import { AuthError } from "./auth-error.js";

/** The asymmetric JWS algorithms accepted in configuration. Symmetric ones and `none` never are. */
export const ASYMMETRIC_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"] as const;

/** The default allow-list: what identity providers and the development key sign with. */
export const DEFAULT_ALGORITHMS = ["RS256", "EdDSA"] as const;

/** A key the verifier trusts: one public key, or a key set chosen by `kid`. */
export type TrustedKey = { kind: "key"; key: KeyObject; source: string } | { kind: "key-set"; getKey: JWTVerifyGetKey; source: string };

/**
 * Checks an algorithm allow-list: non-empty, asymmetric algorithms only.
 * Refusing HS* here means a shared secret can never be configured by
 * accident in a place that expects a public key.
 */
export function checkAlgorithms(algorithms: readonly string[]): string[] {
  if (algorithms.length === 0) throw new Error("at least one token algorithm must be allowed");
  for (const alg of algorithms) {
    if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new Error(`token algorithm "${alg}" is not accepted: use one of ${ASYMMETRIC_ALGORITHMS.join(", ")} (symmetric algorithms and "none" are refused)`);
    }
  }
  return [...new Set(algorithms)];
}

/** The JWS algorithms a public key of this type can verify. */
export function algorithmsForKey(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case "rsa":
      return ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
    case "rsa-pss":
      return ["PS256", "PS384", "PS512"];
    case "ec": {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      return curve === "prime256v1" ? ["ES256"] : curve === "secp384r1" ? ["ES384"] : curve === "secp521r1" ? ["ES512"] : [];
    }
    case "ed25519":
      return ["EdDSA", "Ed25519"];
    default:
      return [];
  }
}

/**
 * The configured algorithms this key can verify; an error when none fit,
 * so a mismatch fails at start rather than on every call.
 */
export function pinAlgorithms(key: KeyObject, configured: readonly string[], source: string): string[] {
  const fits = algorithmsForKey(key);
  const pinned = configured.filter((alg) => fits.includes(alg));
  if (pinned.length === 0) {
    throw new Error(`the ${key.asymmetricKeyType ?? "unknown"} key in ${source} verifies ${fits.join(", ") || "no JWS algorithm"}, but the allowed algorithms are ${configured.join(", ")}`);
  }
  return pinned;
}

/**
 * Reads a public key file: PEM (`PUBLIC KEY`, `RSA PUBLIC KEY`), a PEM
 * X.509 certificate, a JWK (JSON object) or a JWKS (`{"keys": […]}`).
 * A private key is refused: the service only ever needs the public half, and
 * pointing it at a private key is a deployment mistake worth stopping.
 */
export function loadKeyFile(path: string): TrustedKey {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read the public key file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) return parseJwkText(trimmed, path);
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(trimmed)) throw new Error(`${path} holds a private key; give the service the public key only`);
  if (trimmed.includes("-----BEGIN CERTIFICATE-----")) return { kind: "key", key: new X509Certificate(trimmed).publicKey, source: path };
  if (trimmed.includes("-----BEGIN")) return { kind: "key", key: createPublicKey(trimmed), source: path };
  throw new Error(`${path} is neither a PEM public key, a certificate, a JWK nor a JWKS`);
}

function parseJwkText(text: string, path: string): TrustedKey {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not valid JSON`);
  }
  const isPrivate = (jwk: JWK) => jwk.d !== undefined || jwk.k !== undefined;
  if (json && typeof json === "object" && Array.isArray((json as JSONWebKeySet).keys)) {
    const set = json as JSONWebKeySet;
    if (set.keys.some(isPrivate)) throw new Error(`${path} holds private or symmetric keys; a JWKS for verification has public keys only`);
    return { kind: "key-set", getKey: createLocalJWKSet(set), source: path };
  }
  const jwk = json as JWK;
  if (isPrivate(jwk)) throw new Error(`${path} holds a private or symmetric key; give the service the public key only`);
  return { kind: "key", key: createPublicKey({ key: jwk as import("node:crypto").JsonWebKey, format: "jwk" }), source: path };
}

/**
 * A remote key set (an identity provider's `jwks_uri`), fetched lazily,
 * cached, and refetched when a token names an unknown `kid` (key rotation),
 * at most once per cooldown.
 */
export function remoteKeySet(url: string, options: { timeoutMs?: number; cooldownMs?: number } = {}): TrustedKey {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`the JWKS URL ${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new Error(`the JWKS URL must be http(s), got ${parsed.protocol}`);
  const getKey = createRemoteJWKSet(parsed, { timeoutDuration: options.timeoutMs ?? 5_000, cooldownDuration: options.cooldownMs ?? 30_000 });
  return { kind: "key-set", getKey, source: parsed.href };
}

/**
 * The key set of an OpenID Connect provider known by its issuer URL alone:
 * its `jwks_uri` comes from discovery (`<issuer>/.well-known/openid-configuration`,
 * whose `issuer` must be the same URL), on first use; a failed discovery is
 * tried again on the next token and answers "keys unavailable" meanwhile, so
 * a service starts even while its provider is down.
 */
export function discoveredKeySet(issuer: string, options: { timeoutMs?: number; cooldownMs?: number } = {}): TrustedKey {
  let keySet: Promise<JWTVerifyGetKey> | undefined;
  const getKey: JWTVerifyGetKey = async (header, token) => {
    keySet ??= discoverAuthorizationServer(issuer).then((as) => {
      if (!as.jwks_uri) throw new Error(`the discovery document of ${issuer} has no jwks_uri`);
      return (remoteKeySet(as.jwks_uri, options) as Extract<TrustedKey, { kind: "key-set" }>).getKey;
    });
    let resolved: JWTVerifyGetKey;
    try {
      resolved = await keySet;
    } catch (error) {
      keySet = undefined;
      throw new AuthError("key_unavailable", `the token signing keys could not be fetched (${describeOAuthError(error)}); try again later`, { cause: error });
    }
    return resolved(header, token);
  };
  return { kind: "key-set", getKey, source: `discovery of ${issuer}` };
}
