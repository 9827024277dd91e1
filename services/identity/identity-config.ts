/**
 * The development provider's configuration, from the environment, checked
 * with zod at start so a typo stops it with the variable's name.
 *
 * It listens on a loopback address only unless told otherwise: its accounts
 * have passwords printed in the README, so it must not be reachable from
 * another machine by accident.
 */
import { isIP } from "node:net";
import { join, resolve } from "node:path";
import { withoutEmptyValues } from "../shared/config/unset-empty.js";
import { z } from "zod";
import { wholeNumberSetting } from "../shared/config/number-setting.js";
import { AUDIENCES } from "../shared/auth/index.js";
import { repositoryRoot } from "../shared/process/repository-root.js";

export interface IdentityConfig {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** The issuer URL; default `http://<host>:<port>` once listening. */
  issuer?: string;
  /** Origins of the transfer service, where the web UI's sign-in redirects back to. */
  webOrigins: string[];
  /** The signing key file (signing-keys.ts). */
  keysFile: string;
  /** Lifetime of access and ID tokens, in seconds. */
  accessTokenTtlSeconds: number;
  /** The `aud` of tokens for each service. */
  audiences: { records: string; transfer: string };
}

/** Lifetime of access tokens unless configured: short, because a JWT cannot be revoked. */
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 600;

/** Where the signing keys live unless configured: beside the development token key, git-ignored. */
export const DEFAULT_KEYS_FILE = join(repositoryRoot(), ".cache", "dev-identity", "signing-keys.json");

const origin = z.url({ protocol: /^https?$/, error: "must be an http(s) origin" }).transform((value, ctx) => {
  const url = new URL(value);
  if (url.pathname !== "/" || url.search || url.hash) ctx.addIssue({ code: "custom", message: `${value} is not an origin (scheme://host:port, no path)` });
  return url.origin;
});

const schema = z.object({
  IDENTITY_HOST: z.string().min(1).default("127.0.0.1"),
  IDENTITY_PORT: wholeNumberSetting(0, 65535).default(9000),
  IDENTITY_ISSUER: z.url({ protocol: /^https?$/, error: "IDENTITY_ISSUER must be an http(s) URL" }).optional(),
  IDENTITY_WEB_ORIGINS: z.string().default("http://127.0.0.1:8000,http://localhost:8000"),
  IDENTITY_KEYS_FILE: z.string().min(1).optional(),
  IDENTITY_ACCESS_TOKEN_TTL_SECONDS: wholeNumberSetting(1, 86_400).default(DEFAULT_ACCESS_TOKEN_TTL_SECONDS),
  IDENTITY_ALLOW_REMOTE: z.enum(["0", "1", "true", "false"]).optional(),
  DX_AUTH_AUDIENCE_RECORDS: z.string().min(1).default(AUDIENCES.records),
  DX_AUTH_AUDIENCE_TRANSFER: z.string().min(1).default(AUDIENCES.transfer),
});

/** True for 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1" || host === "[::1]";
}

/** Reads the configuration; throws naming every bad variable. */
export function loadIdentityConfig(env: NodeJS.ProcessEnv = process.env): IdentityConfig {
  const result = schema.safeParse(withoutEmptyValues(env));
  if (!result.success) throw new Error(`invalid identity provider configuration:\n${result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n")}`);
  const e = result.data;
  const problems: string[] = [];
  const allowRemote = e.IDENTITY_ALLOW_REMOTE === "1" || e.IDENTITY_ALLOW_REMOTE === "true";
  if (!isLoopbackHost(e.IDENTITY_HOST) && !allowRemote) {
    problems.push(`  IDENTITY_HOST: ${e.IDENTITY_HOST} is not a loopback address; the development accounts' passwords are public, so the provider listens on 127.0.0.1 unless IDENTITY_ALLOW_REMOTE=1`);
  }
  const webOrigins: string[] = [];
  for (const text of e.IDENTITY_WEB_ORIGINS.split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")) {
    const parsed = origin.safeParse(text);
    if (parsed.success) webOrigins.push(parsed.data);
    else problems.push(`  IDENTITY_WEB_ORIGINS: ${parsed.error.issues.map((i) => i.message).join("; ")} (${text})`);
  }
  if (webOrigins.length === 0 && problems.length === 0) problems.push("  IDENTITY_WEB_ORIGINS: at least one origin of the transfer service is needed");
  if (problems.length > 0) throw new Error(`invalid identity provider configuration:\n${problems.join("\n")}`);
  return {
    host: e.IDENTITY_HOST,
    port: e.IDENTITY_PORT,
    issuer: e.IDENTITY_ISSUER?.replace(/\/$/, ""),
    webOrigins: [...new Set(webOrigins)],
    keysFile: e.IDENTITY_KEYS_FILE ? resolve(e.IDENTITY_KEYS_FILE) : DEFAULT_KEYS_FILE,
    accessTokenTtlSeconds: e.IDENTITY_ACCESS_TOKEN_TTL_SECONDS,
    audiences: { records: e.DX_AUTH_AUDIENCE_RECORDS, transfer: e.DX_AUTH_AUDIENCE_TRANSFER },
  };
}
