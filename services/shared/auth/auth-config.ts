/**
 * Authentication configuration from the environment, shared by both
 * services (each names its own audience variable), checked with zod at start
 * so a typo fails fast with the variable's name.
 *
 * Dev mode (`NODE_ENV=development` or `DX_AUTH_DEV=1`): without a key source
 * the service trusts the development key in `.cache/dev-keys/` and the
 * development issuer. Outside dev mode a key source and an issuer are
 * required: a production service never starts open or trusting a local key by
 * accident.
 */
import { z } from "zod";
import { DEFAULT_ALGORITHMS, checkAlgorithms, loadKeyFile, remoteKeySet, type TrustedKey } from "./key-source.js";
import { DEV_ISSUER, devKeysDir, ensureDevKeys } from "./dev-keys.js";
import type { ReflectionAccess } from "./rpc-auth-interceptor.js";
import { DEFAULT_CLOCK_SKEW_SECONDS, createTokenVerifier, type TokenVerifier } from "./token-verifier.js";

export interface AuthConfig {
  issuers: string[];
  audience: string;
  algorithms: string[];
  clockSkewSeconds: number;
  rolesClaim: string;
  reflection: ReflectionAccess;
  keySource: { kind: "jwks"; url: string } | { kind: "file"; path: string } | { kind: "dev"; dir: string };
}

const list = (value: string) =>
  value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");

const schema = z.object({
  DX_AUTH_ISSUER: z.string().optional(),
  DX_AUTH_JWKS_URL: z.url({ error: "DX_AUTH_JWKS_URL must be a URL" }).optional(),
  DX_AUTH_PUBLIC_KEY_FILE: z.string().min(1).optional(),
  DX_AUTH_ALGORITHMS: z.string().default(DEFAULT_ALGORITHMS.join(",")),
  DX_AUTH_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(300).default(DEFAULT_CLOCK_SKEW_SECONDS),
  DX_AUTH_ROLES_CLAIM: z.string().min(1).default("roles"),
  DX_AUTH_REFLECTION: z.enum(["public", "authenticated"], { error: "DX_AUTH_REFLECTION must be public or authenticated" }).default("public"),
  DX_AUTH_DEV: z.enum(["0", "1", "true", "false", ""]).optional(),
  NODE_ENV: z.string().optional(),
});

/** True in dev mode: `NODE_ENV=development` or `DX_AUTH_DEV=1`. */
export function isDevMode(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.DX_AUTH_DEV === "1" || env.DX_AUTH_DEV === "true" || env.NODE_ENV === "development";
}

/**
 * Reads the configuration of one service.
 *
 * @param audience - the variable naming this service's audience and its default,
 *   e.g. `{ variable: "DX_AUTH_AUDIENCE_RECORDS", fallback: "dataexchange-records" }`.
 */
export function loadAuthConfig(env: NodeJS.ProcessEnv, audience: { variable: string; fallback: string }): AuthConfig {
  const result = schema.safeParse(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === "" ? undefined : v])));
  const problems = result.success ? [] : result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
  if (!result.success) throw new Error(`invalid authentication configuration:\n${problems.join("\n")}`);
  const e = result.data;
  const dev = isDevMode(env);
  if (e.DX_AUTH_JWKS_URL && e.DX_AUTH_PUBLIC_KEY_FILE) problems.push("  set either DX_AUTH_JWKS_URL or DX_AUTH_PUBLIC_KEY_FILE, not both");
  if (!e.DX_AUTH_JWKS_URL && !e.DX_AUTH_PUBLIC_KEY_FILE && !dev) {
    problems.push("  no token key configured: set DX_AUTH_JWKS_URL or DX_AUTH_PUBLIC_KEY_FILE (or NODE_ENV=development / DX_AUTH_DEV=1 to trust the development key)");
  }
  const issuers = e.DX_AUTH_ISSUER ? list(e.DX_AUTH_ISSUER) : dev ? [DEV_ISSUER] : [];
  if (issuers.length === 0) problems.push("  DX_AUTH_ISSUER is required outside dev mode (the identity provider's issuer URL)");
  let algorithms: string[] = [];
  try {
    algorithms = checkAlgorithms(list(e.DX_AUTH_ALGORITHMS));
  } catch (error) {
    problems.push(`  DX_AUTH_ALGORITHMS: ${(error as Error).message}`);
  }
  const aud = env[audience.variable]?.trim() || audience.fallback;
  if (problems.length > 0) throw new Error(`invalid authentication configuration:\n${problems.join("\n")}`);
  const keySource: AuthConfig["keySource"] = e.DX_AUTH_JWKS_URL
    ? { kind: "jwks", url: e.DX_AUTH_JWKS_URL }
    : e.DX_AUTH_PUBLIC_KEY_FILE
      ? { kind: "file", path: e.DX_AUTH_PUBLIC_KEY_FILE }
      : { kind: "dev", dir: devKeysDir(env) };
  return { issuers, audience: aud, algorithms, clockSkewSeconds: e.DX_AUTH_CLOCK_SKEW_SECONDS, rolesClaim: e.DX_AUTH_ROLES_CLAIM, reflection: e.DX_AUTH_REFLECTION, keySource };
}

/** The trusted key of a configuration (creating the development key pair in dev mode). */
export function trustedKeyOf(config: AuthConfig): TrustedKey {
  switch (config.keySource.kind) {
    case "jwks":
      return remoteKeySet(config.keySource.url);
    case "file":
      return loadKeyFile(config.keySource.path);
    case "dev":
      return loadKeyFile(ensureDevKeys(config.keySource.dir).publicKeyFile);
  }
}

/** A verifier for a configuration. */
export function createVerifierFromConfig(config: AuthConfig): TokenVerifier {
  return createTokenVerifier({
    key: trustedKeyOf(config),
    issuer: config.issuers,
    audience: config.audience,
    algorithms: config.algorithms,
    clockSkewSeconds: config.clockSkewSeconds,
    rolesClaim: config.rolesClaim,
  });
}

/** One line for the start-up log: where keys come from, never key material. */
export function describeAuthConfig(config: AuthConfig): string {
  const source = config.keySource.kind === "jwks" ? `JWKS ${config.keySource.url}` : config.keySource.kind === "file" ? `key file ${config.keySource.path}` : `development key in ${config.keySource.dir}`;
  return `auth: ${source}; issuer ${config.issuers.join(" | ")}; audience ${config.audience}; algorithms ${config.algorithms.join(", ")}; reflection ${config.reflection}`;
}
