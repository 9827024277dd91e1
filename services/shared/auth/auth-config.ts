/**
 * Authentication configuration from the environment, shared by both
 * services (each names its own audience variable), checked with zod at start
 * so a typo fails fast with the variable's name.
 *
 * Where keys come from, in this order: `DX_AUTH_JWKS_URL`, `DX_AUTH_PUBLIC_KEY_FILE`,
 * or the identity provider's discovery document when `DX_AUTH_ISSUER` is its
 * URL alone (any OpenID Connect provider by configuration: issuer, audience,
 * roles claim and role map; role-mapping.ts).
 *
 * Dev mode (`NODE_ENV=development` or `DX_AUTH_DEV=1`): without a key source
 * the service trusts the development key in `.cache/dev-keys/` and the
 * development issuer; with one, `DX_AUTH_TRUST_DEV_KEY=1` trusts the
 * development key as well, for its own issuer only (what `npm start` does, so
 * `npm run token` keeps working beside the development provider). Outside dev
 * mode a key source and an issuer are required, and the development key is
 * never trusted: a production service never starts open or trusting a local
 * key by accident.
 */
import { join, resolve } from "node:path";
import { withoutEmptyValues } from "../config/unset-empty.js";
import { z } from "zod";
import { wholeNumberSetting } from "../config/number-setting.js";
import { DEFAULT_ALGORITHMS, checkAlgorithms, discoveredKeySet, loadKeyFile, remoteKeySet, type TrustedKey } from "./key-source.js";
import { DEV_ISSUER, devKeysDir, ensureDevKeys } from "./dev-keys.js";
import { describeRoleSource, parseRoleMap, parseRolesClaim, type RoleSource } from "./role-mapping.js";
import type { ReflectionAccess } from "./rpc-auth-interceptor.js";
import { DEFAULT_CLOCK_SKEW_SECONDS, createTokenVerifier, type TokenVerifier, type TrustAnchor } from "./token-verifier.js";

export interface AuthConfig {
  /** The accepted `iss` values of `keySource`'s tokens. */
  issuers: string[];
  audience: string;
  algorithms: string[];
  clockSkewSeconds: number;
  /** Where tokens of `issuers` carry roles, and how the provider's names map to ours. */
  roles: RoleSource;
  reflection: ReflectionAccess;
  keySource: { kind: "jwks"; url: string } | { kind: "file"; path: string } | { kind: "discovery"; issuer: string } | { kind: "dev"; dir: string };
  /** The development key, trusted besides `keySource` for {@link DEV_ISSUER}'s tokens (`DX_AUTH_TRUST_DEV_KEY=1`, dev mode only). */
  devKey?: { dir: string };
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
  DX_AUTH_CLOCK_SKEW_SECONDS: wholeNumberSetting(0, 300).default(DEFAULT_CLOCK_SKEW_SECONDS),
  DX_AUTH_ROLES_CLAIM: z.string().min(1).default("roles"),
  DX_AUTH_ROLE_MAP: z.string().min(1).optional(),
  DX_AUTH_TRUST_DEV_KEY: z.enum(["0", "1", "true", "false"], { error: "DX_AUTH_TRUST_DEV_KEY must be 1 or 0" }).optional(),
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
  const result = schema.safeParse(withoutEmptyValues(env));
  const problems = result.success ? [] : result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
  if (!result.success) throw new Error(`invalid authentication configuration:\n${problems.join("\n")}`);
  const e = result.data;
  const dev = isDevMode(env);
  if (e.DX_AUTH_JWKS_URL && e.DX_AUTH_PUBLIC_KEY_FILE) problems.push("  set either DX_AUTH_JWKS_URL or DX_AUTH_PUBLIC_KEY_FILE, not both");
  const configuredIssuers = e.DX_AUTH_ISSUER ? list(e.DX_AUTH_ISSUER) : [];
  // The issuer's URL alone is enough: its keys are found by discovery.
  const discoverable = !e.DX_AUTH_JWKS_URL && !e.DX_AUTH_PUBLIC_KEY_FILE && configuredIssuers.length === 1 && /^https?:\/\//.test(configuredIssuers[0]!) ? configuredIssuers[0] : undefined;
  const hasKeySource = Boolean(e.DX_AUTH_JWKS_URL || e.DX_AUTH_PUBLIC_KEY_FILE || discoverable);
  if (!hasKeySource && !dev) {
    problems.push(
      "  no token key configured: set DX_AUTH_ISSUER to the identity provider's URL (its keys are then discovered), or DX_AUTH_JWKS_URL or DX_AUTH_PUBLIC_KEY_FILE (or NODE_ENV=development / DX_AUTH_DEV=1 to trust the development key)",
    );
  }
  const issuers = configuredIssuers.length > 0 ? configuredIssuers : dev ? [DEV_ISSUER] : [];
  if (issuers.length === 0) problems.push("  DX_AUTH_ISSUER is required outside dev mode (the identity provider's issuer URL)");
  const trustDevKey = e.DX_AUTH_TRUST_DEV_KEY === "1" || e.DX_AUTH_TRUST_DEV_KEY === "true";
  if (trustDevKey && !dev) problems.push("  DX_AUTH_TRUST_DEV_KEY=1 is allowed in dev mode only (NODE_ENV=development or DX_AUTH_DEV=1): outside it the development key is never trusted");
  if (trustDevKey && hasKeySource && issuers.includes(DEV_ISSUER)) problems.push(`  DX_AUTH_ISSUER must not name "${DEV_ISSUER}" when DX_AUTH_TRUST_DEV_KEY=1 trusts the development key for it`);
  if ((e.DX_AUTH_TRUST_DEV_KEY === "0" || e.DX_AUTH_TRUST_DEV_KEY === "false") && !hasKeySource && dev) {
    problems.push("  DX_AUTH_TRUST_DEV_KEY=0 leaves no trusted key: set DX_AUTH_ISSUER, DX_AUTH_JWKS_URL or DX_AUTH_PUBLIC_KEY_FILE");
  }
  let algorithms: string[] = [];
  try {
    algorithms = checkAlgorithms(list(e.DX_AUTH_ALGORITHMS));
  } catch (error) {
    problems.push(`  DX_AUTH_ALGORITHMS: ${(error as Error).message}`);
  }
  let roles: RoleSource = { claims: ["roles"] };
  try {
    roles = { claims: parseRolesClaim(e.DX_AUTH_ROLES_CLAIM), ...(e.DX_AUTH_ROLE_MAP ? { map: parseRoleMap(e.DX_AUTH_ROLE_MAP) } : {}) };
  } catch (error) {
    problems.push(`  ${(error as Error).message}`);
  }
  const aud = env[audience.variable]?.trim() || audience.fallback;
  if (problems.length > 0) throw new Error(`invalid authentication configuration:\n${problems.join("\n")}`);
  const keySource: AuthConfig["keySource"] = e.DX_AUTH_JWKS_URL
    ? { kind: "jwks", url: e.DX_AUTH_JWKS_URL }
    : e.DX_AUTH_PUBLIC_KEY_FILE
      ? { kind: "file", path: e.DX_AUTH_PUBLIC_KEY_FILE }
      : discoverable
        ? { kind: "discovery", issuer: discoverable }
        : { kind: "dev", dir: devKeysDir(env) };
  const devKey = trustDevKey && keySource.kind !== "dev" ? { dir: devKeysDir(env) } : undefined;
  return { issuers, audience: aud, algorithms, clockSkewSeconds: e.DX_AUTH_CLOCK_SKEW_SECONDS, roles, reflection: e.DX_AUTH_REFLECTION, keySource, ...(devKey ? { devKey } : {}) };
}

/** True when tokens signed with the development key (`npm run token`) pass this configuration. */
export function trustsDevKey(config: AuthConfig, env: NodeJS.ProcessEnv = process.env): boolean {
  if (config.keySource.kind === "dev" || config.devKey !== undefined) return true;
  // Pointed at the development key's public half explicitly (and its issuer).
  if (config.keySource.kind !== "file" || !config.issuers.includes(DEV_ISSUER)) return false;
  const dir = devKeysDir(env);
  return [join(dir, "public.pem"), join(dir, "public.jwk.json")].includes(resolve(config.keySource.path));
}

/** The trusted key of a configuration (creating the development key pair in dev mode). */
export function trustedKeyOf(config: AuthConfig): TrustedKey {
  switch (config.keySource.kind) {
    case "jwks":
      return remoteKeySet(config.keySource.url);
    case "file":
      return loadKeyFile(config.keySource.path);
    case "discovery":
      return discoveredKeySet(config.keySource.issuer);
    case "dev":
      return loadKeyFile(ensureDevKeys(config.keySource.dir).publicKeyFile);
  }
}

/**
 * A verifier for a configuration: the configured issuer(s) with their keys
 * and role source, and the development key for the development issuer when
 * it is trusted as well (its tokens carry our role names as they are).
 */
export function createVerifierFromConfig(config: AuthConfig): TokenVerifier {
  const anchors: TrustAnchor[] = [{ issuer: config.issuers, key: trustedKeyOf(config), roles: config.roles }];
  if (config.devKey) anchors.push({ issuer: DEV_ISSUER, key: loadKeyFile(ensureDevKeys(config.devKey.dir).publicKeyFile) });
  return createTokenVerifier({ anchors, audience: config.audience, algorithms: config.algorithms, clockSkewSeconds: config.clockSkewSeconds });
}

/** One line for the start-up log: where keys come from, never key material. */
export function describeAuthConfig(config: AuthConfig): string {
  const k = config.keySource;
  const source = k.kind === "jwks" ? `JWKS ${k.url}` : k.kind === "file" ? `key file ${k.path}` : k.kind === "discovery" ? `keys discovered from ${k.issuer}` : `development key in ${k.dir}`;
  const devKey = config.devKey ? `; also the development key in ${config.devKey.dir} for issuer ${DEV_ISSUER}` : "";
  return `auth: ${source}; issuer ${config.issuers.join(" | ")}; audience ${config.audience}; algorithms ${config.algorithms.join(", ")}; ${describeRoleSource(config.roles)}${devKey}; reflection ${config.reflection}`;
}
