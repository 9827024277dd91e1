/**
 * The development provider's token signing keys, kept in one file so that a
 * restart does not invalidate the tokens already out, and rotated without
 * downtime.
 *
 * A key lives through three states:
 * - `next`: published in the JWKS but not used yet, so every verifier that
 *   refreshes its cached key set learns it before the first token it signs;
 * - `active`: signs every new token (exactly one key is active);
 * - `retired`: signs nothing, still published until every token it signed
 *   has expired (`retainSeconds` after it retired), then dropped.
 *
 * {@link rotateSigningKeys} promotes `next` to `active`, retires the active
 * key and makes a new `next`. A verifier that cached the key set before the
 * rotation already knows the new active key (it was `next`), and tokens signed
 * before the rotation still verify until they expire: no request fails because
 * of a rotation, as long as rotations are further apart than the verifiers'
 * cache age (jose: 10 minutes).
 *
 * RSA (RS256): what every OpenID Connect client and resource server can verify.
 * The file holds private keys: mode 0600, written aside and renamed into place,
 * so the provider never reads half a file.
 */
import { generateKeyPairSync, randomBytes, createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { z } from "zod";

/** The JWS algorithm of every key. */
export const SIGNING_ALGORITHM = "RS256";

const privateJwk = z.looseObject({ kty: z.literal("RSA"), n: z.string(), e: z.string(), d: z.string() });

const storedKey = z.object({
  kid: z.string().min(1),
  state: z.enum(["next", "active", "retired"]),
  createdAt: z.iso.datetime(),
  activatedAt: z.iso.datetime().optional(),
  retiredAt: z.iso.datetime().optional(),
  jwk: privateJwk,
});

const keyFile = z.object({ version: z.literal(1), keys: z.array(storedKey) });

export type StoredSigningKey = z.infer<typeof storedKey>;

export interface SigningKeys {
  /** The file they were read from. */
  file: string;
  /** Every key, in the file's order. */
  keys: StoredSigningKey[];
  /** The `kid` of the key that signs. */
  activeKid: string;
}

export interface RotationOptions {
  /** How long a retired key stays published: the longest lifetime of a token it signed, plus clock skew. */
  retainSeconds: number;
  /** Default now (tests). */
  now?: Date;
}

/** Reads the key file, creating it (an active and a next key) when it does not exist. */
export function loadOrCreateSigningKeys(file: string): SigningKeys {
  if (!existsSync(file)) {
    const now = new Date();
    writeKeyFile(file, [newKey("active", now), newKey("next", now)]);
  }
  return readSigningKeys(file);
}

/** Reads and checks the key file: exactly one active key, at most one next key. */
export function readSigningKeys(file: string): SigningKeys {
  let parsed: z.infer<typeof keyFile>;
  try {
    parsed = keyFile.parse(JSON.parse(readFileSync(file, "utf8")));
  } catch (error) {
    throw new Error(
      `the signing key file ${file} is not valid (${error instanceof z.ZodError ? error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") : (error as Error).message}); delete it to start with new keys`,
    );
  }
  const active = parsed.keys.filter((k) => k.state === "active");
  if (active.length !== 1) throw new Error(`the signing key file ${file} has ${active.length} active keys; it needs exactly one`);
  if (parsed.keys.filter((k) => k.state === "next").length > 1) throw new Error(`the signing key file ${file} has more than one next key`);
  if (new Set(parsed.keys.map((k) => k.kid)).size !== parsed.keys.length) throw new Error(`the signing key file ${file} has two keys with one kid`);
  return { file, keys: parsed.keys, activeKid: active[0]!.kid };
}

/**
 * Rotates the keys in `file`: next → active, active → retired, a new next,
 * and retired keys past `retainSeconds` dropped. Returns the new set.
 */
export function rotateSigningKeys(file: string, options: RotationOptions): SigningKeys {
  const now = options.now ?? new Date();
  const current = loadOrCreateSigningKeys(file);
  const keys: StoredSigningKey[] = [];
  let promoted = false;
  for (const key of current.keys) {
    if (key.state === "next") {
      keys.push({ ...key, state: "active", activatedAt: now.toISOString() });
      promoted = true;
    } else if (key.state === "active") {
      keys.push({ ...key, state: "retired", retiredAt: now.toISOString() });
    } else if (now.getTime() - Date.parse(key.retiredAt ?? key.createdAt) < options.retainSeconds * 1000) {
      keys.push(key);
    }
  }
  // A file written by hand may have no next key: then the new key becomes active at once.
  if (!promoted) keys.push(newKey("active", now));
  keys.push(newKey("next", now));
  writeKeyFile(file, keys);
  return readSigningKeys(file);
}

/**
 * The private JWKS for oidc-provider: the active key first (it signs with
 * the first key that fits the algorithm), then the next and retired keys,
 * which it only publishes.
 */
export function providerJwks(keys: SigningKeys): { keys: Record<string, unknown>[] } {
  const order = { active: 0, next: 1, retired: 2 } as const;
  const sorted = [...keys.keys].sort((a, b) => order[a.state] - order[b.state]);
  return { keys: sorted.map((k) => ({ ...k.jwk, kid: k.kid, alg: SIGNING_ALGORITHM, use: "sig" })) };
}

/** A short description for logs: kids and states, never key material. */
export function describeSigningKeys(keys: SigningKeys): string {
  return keys.keys.map((k) => `${k.kid} (${k.state})`).join(", ");
}

function newKey(state: "active" | "next", now: Date): StoredSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = privateKey.export({ format: "jwk" }) as z.infer<typeof privateJwk>;
  // A kid that says nothing about the key but is unique: a hash of the public key and some randomness.
  const kid = createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .update(randomBytes(8))
    .digest("base64url")
    .slice(0, 16);
  return { kid, state, createdAt: now.toISOString(), ...(state === "active" ? { activatedAt: now.toISOString() } : {}), jwk };
}

function writeKeyFile(file: string, keys: StoredSigningKey[]): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(temp, `${JSON.stringify({ version: 1, keys }, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, file);
}
