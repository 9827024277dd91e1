/**
 * The development key pair: generated once into `.cache/dev-keys/` (git-
 * ignored) so that `npm run token` can mint tokens that a service started by
 * `npm start` trusts, with no identity provider running.
 *
 * Ed25519 (JWS `EdDSA`): generating it is instant and its tokens are short.
 * The private key file is readable by its owner only. Creation is atomic
 * (written aside, then hard-linked into place), so parallel test workers or a
 * token minted while the services start never see half a key or two keys.
 * Nothing in production reads this: services trust it only in dev mode or
 * when pointed at its public key explicitly.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { SignJWT } from "jose";
import { repositoryRoot } from "../process/repository-root.js";

/** The issuer of development tokens. */
export const DEV_ISSUER = "dataexchange-dev";
/** The audience of each service (also the production defaults). */
export const AUDIENCES = { records: "dataexchange-records", transfer: "dataexchange-transfer" } as const;
/** The algorithm of the development key. */
export const DEV_ALGORITHM = "EdDSA";

const PRIVATE_FILE = "private.pem";
const PUBLIC_FILE = "public.pem";
const JWK_FILE = "public.jwk.json";

export interface DevKeys {
  dir: string;
  /** PKCS#8 PEM, mode 0600. */
  privateKeyFile: string;
  /** SPKI PEM: what `DX_AUTH_PUBLIC_KEY_FILE` points at. */
  publicKeyFile: string;
  /** The public key as a JWK (with kid and alg). */
  publicJwkFile: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The key id put in token headers: a SHA-256 of the public key. */
  kid: string;
}

/** `DX_DEV_KEYS_DIR`, else `<repository>/.cache/dev-keys`. */
export function devKeysDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DX_DEV_KEYS_DIR) return resolve(env.DX_DEV_KEYS_DIR);
  return join(repositoryRoot(), ".cache", "dev-keys");
}

/** Loads the development key pair, creating it on first use. */
export function ensureDevKeys(dir: string = devKeysDir()): DevKeys {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const privateKeyFile = join(dir, PRIVATE_FILE);
  if (!existsSync(privateKeyFile)) createPrivateKeyFile(privateKeyFile);
  const privateKey = createPrivateKey(readFileSync(privateKeyFile, "utf8"));
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error(`${privateKeyFile} is not an Ed25519 key; delete ${dir} to regenerate it`);
  const publicKey = createPublicKey(privateKey);
  const spki = publicKey.export({ type: "spki", format: "pem" }).toString();
  const kid = createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest("base64url")
    .slice(0, 16);
  const jwk = { ...publicKey.export({ format: "jwk" }), kid, alg: DEV_ALGORITHM, use: "sig" };
  const publicKeyFile = join(dir, PUBLIC_FILE);
  const publicJwkFile = join(dir, JWK_FILE);
  // Derived from the private key every time, so they can never disagree with it.
  writeIfChanged(publicKeyFile, spki);
  writeIfChanged(publicJwkFile, `${JSON.stringify(jwk, null, 2)}\n`);
  return { dir, privateKeyFile, publicKeyFile, publicJwkFile, privateKey, publicKey, kid };
}

function createPrivateKeyFile(path: string): void {
  const { privateKey } = generateKeyPairSync("ed25519");
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(temp, pem, { mode: 0o600 });
  try {
    linkSync(temp, path); // fails if another process won the race: then use theirs
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    rmSync(temp, { force: true });
  }
}

function writeIfChanged(path: string, content: string): void {
  if (existsSync(path) && readFileSync(path, "utf8") === content) return;
  const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(temp, content, { mode: 0o644 });
  renameSync(temp, path);
}

export interface DevTokenOptions {
  roles: readonly string[];
  /** Default `dev-user`. */
  subject?: string;
  /** Lifetime in seconds; default 3600. */
  ttlSeconds?: number;
  /** Default the records service's audience. */
  audience?: string | string[];
  /** Default {@link DEV_ISSUER}. */
  issuer?: string;
  /** Further claims (for tests: `nbf`, odd roles claims …). */
  claims?: Record<string, unknown>;
  /** Default: the keys in {@link devKeysDir}. */
  keys?: Pick<DevKeys, "privateKey" | "kid">;
}

/** Mints a development token signed with the development key. */
export async function signDevToken(options: DevTokenOptions): Promise<string> {
  const keys = options.keys ?? ensureDevKeys();
  const ttl = options.ttlSeconds ?? 3600;
  return new SignJWT({ roles: [...options.roles], ...options.claims })
    .setProtectedHeader({ alg: DEV_ALGORITHM, typ: "JWT", kid: keys.kid })
    .setSubject(options.subject ?? "dev-user")
    .setIssuer(options.issuer ?? DEV_ISSUER)
    .setAudience(options.audience ?? AUDIENCES.records)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttl)
    .setJti(randomBytes(12).toString("base64url"))
    .sign(keys.privateKey);
}
