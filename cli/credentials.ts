/**
 * Which bearer token a command sends: `--token`, else `DX_TOKEN`, else the
 * file `dx login` wrote (refreshed through the provider when it holds a
 * refresh token and the access token is about to expire), else none (a
 * server without sign-in). A token known to have expired is refused here,
 * saying how long ago, rather than sent to be refused with less to say.
 */
import { decodeJwt } from "jose";
import { SignInRequiredError, TokenSet, MIN_TOKEN_LIFE_SECONDS } from "../services/shared/oidc-client/index.js";
import { CliError, ExitCode } from "./exit-codes.js";
import { readStoredSignIn, tokenFilePath, writeStoredSignIn } from "./token-file.js";

export interface Credential {
  /** The bearer token, or undefined to call without one. */
  token?: string;
  /** The token's subject (`sub`), when it says. */
  subject?: string;
  /** Where the token came from, for messages. */
  source: "--token" | "DX_TOKEN" | "dx login" | "none";
}

/** "5 minutes", "2 hours", "40 seconds". */
export function humanDuration(seconds: number): string {
  const units: [number, string][] = [
    [86_400, "day"],
    [3_600, "hour"],
    [60, "minute"],
    [1, "second"],
  ];
  const s = Math.max(1, Math.round(Math.abs(seconds)));
  for (const [size, name] of units) {
    if (s >= size) {
      const n = Math.floor(s / size);
      return `${n} ${name}${n === 1 ? "" : "s"}`;
    }
  }
  return `${s} seconds`;
}

interface TokenClaims {
  exp?: number;
  sub?: string;
}

/** The claims of a JWT, or undefined for a token that is not one (an opaque token is the server's to judge). */
function claimsOf(token: string): TokenClaims | undefined {
  try {
    return decodeJwt(token);
  } catch {
    return undefined;
  }
}

/** Seconds the token has left (negative once expired), or undefined when it does not say. */
export function secondsLeft(token: string, now = Date.now()): number | undefined {
  const exp = claimsOf(token)?.exp;
  return typeof exp === "number" ? exp - now / 1000 : undefined;
}

function refuseExpired(token: string, source: Credential["source"], hint: string): void {
  const left = secondsLeft(token);
  if (left !== undefined && left <= 0) throw new CliError(`the token expired ${humanDuration(-left)} ago (from ${source}); ${hint}`, ExitCode.cannotConnect);
}

/** The credential for a command, from its `--token` option and the environment. */
export async function resolveCredential(flagToken: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Credential> {
  if (flagToken !== undefined || env.DX_TOKEN) {
    const source = flagToken !== undefined ? "--token" : "DX_TOKEN";
    const token = (flagToken ?? env.DX_TOKEN!).trim();
    if (!token) throw new CliError(`${source} is empty`, ExitCode.cannotConnect);
    refuseExpired(token, source, "get a new one");
    return { token, subject: claimsOf(token)?.sub, source };
  }
  const path = tokenFilePath(env);
  const stored = readStoredSignIn(path);
  if (!stored) return { source: "none" };
  const left = secondsLeft(stored.accessToken);
  const fresh = left === undefined || left > MIN_TOKEN_LIFE_SECONDS;
  if (fresh || !stored.refreshToken || !stored.issuer || !stored.clientId) {
    refuseExpired(stored.accessToken, "dx login", 'sign in again with "dx login"');
    return { token: stored.accessToken, subject: stored.subject ?? claimsOf(stored.accessToken)?.sub, source: "dx login" };
  }
  // The access token is (nearly) spent: a refresh, whose rotated refresh token is kept for the next run.
  try {
    const tokens = await TokenSet.fromRefreshToken({ issuer: stored.issuer, clientId: stored.clientId, refreshToken: stored.refreshToken, resource: stored.resource });
    const token = await tokens.accessToken();
    writeStoredSignIn({ ...stored, accessToken: token, refreshToken: tokens.refreshToken ?? stored.refreshToken }, path);
    return { token, subject: stored.subject ?? claimsOf(token)?.sub, source: "dx login" };
  } catch (error) {
    if (error instanceof SignInRequiredError) throw new CliError(`${error.message} with "dx login"`, ExitCode.cannotConnect);
    throw new CliError(`cannot renew the sign-in at ${stored.issuer}: ${(error as Error).message}`, ExitCode.cannotConnect);
  }
}
