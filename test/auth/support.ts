/**
 * Keys, verifiers and tokens for the auth tests: every key is made here, in
 * memory, and every key and token is recorded for the run's log secrets check
 * (test/support/run-secrets.ts).
 */
import { createHmac, generateKeyPairSync, type KeyObject } from "node:crypto";
import { SignJWT, type JWTPayload } from "jose";
import { createTokenVerifier, type TokenVerifier } from "../../services/shared/auth/index.js";
import { recordPrivateKey, recordSecret } from "../support/run-secrets.js";

export const ISSUER = "https://id.test.example";
export const RECORDS_AUDIENCE = "dataexchange-records";
export const TRANSFER_AUDIENCE = "dataexchange-transfer";

export interface TestKeys {
  privateKey: KeyObject;
  publicKey: KeyObject;
  alg: "EdDSA" | "RS256";
}

export function edKeys(): TestKeys {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey: recordPrivateKey(privateKey), publicKey, alg: "EdDSA" };
}

export function rsaKeys(): TestKeys {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { privateKey: recordPrivateKey(privateKey), publicKey, alg: "RS256" };
}

export function verifierFor(keys: TestKeys, audience = RECORDS_AUDIENCE, algorithms: string[] = ["RS256", "EdDSA"]): TokenVerifier {
  return createTokenVerifier({ key: { kind: "key", key: keys.publicKey, source: "test key" }, issuer: ISSUER, audience, algorithms });
}

export interface TokenOptions {
  roles?: string[];
  sub?: string | null;
  aud?: string | string[];
  iss?: string;
  /** Seconds from now; null leaves exp out. */
  expIn?: number | null;
  nbfIn?: number;
  claims?: JWTPayload;
}

const now = () => Math.floor(Date.now() / 1000);

export async function token(keys: TestKeys, options: TokenOptions = {}): Promise<string> {
  const jwt = new SignJWT({ roles: options.roles ?? [], ...options.claims })
    .setProtectedHeader({ alg: keys.alg, typ: "JWT" })
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? RECORDS_AUDIENCE)
    .setIssuedAt();
  if (options.sub !== null) jwt.setSubject(options.sub ?? "alice");
  if (options.expIn !== null) jwt.setExpirationTime(now() + (options.expIn ?? 600));
  if (options.nbfIn !== undefined) jwt.setNotBefore(now() + options.nbfIn);
  return recordSecret("token", await jwt.sign(keys.privateKey));
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function claims(roles: string[]): JWTPayload {
  return { sub: "mallory", roles, iss: ISSUER, aud: RECORDS_AUDIENCE, iat: now(), exp: now() + 600 };
}

/** An unsecured JWT (`alg: none`, empty signature). */
export function unsecuredToken(roles = ["admin"]): string {
  return recordSecret("token", `${b64({ alg: "none", typ: "JWT" })}.${b64(claims(roles))}.`);
}

/** The algorithm-confusion attack: HS256 with the server's public key (PEM text) as the HMAC secret. */
export function hs256WithPublicKey(publicKey: KeyObject, roles = ["admin"]): string {
  const input = `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims(roles))}`;
  const secret = publicKey.export({ type: "spki", format: "pem" });
  return recordSecret("token", `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`);
}
