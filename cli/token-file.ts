/**
 * Where `dx login` keeps who you are between runs: one JSON file readable by
 * its owner only (mode 0600, in a 0700 folder), because it holds a bearer
 * token and possibly a refresh token. `DX_TOKEN_FILE` names another file
 * (tests, several identities); by default `$XDG_CONFIG_HOME/dx/token.json`.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { z } from "zod";
import { CliError, ExitCode } from "./exit-codes.js";

const storedSignInSchema = z.strictObject({
  /** The access token last obtained (or pasted). */
  accessToken: z.string().min(1),
  /** Present after a sign-in at a provider: what a refresh needs. */
  issuer: z.string().url().optional(),
  clientId: z.string().min(1).optional(),
  resource: z.string().optional(),
  refreshToken: z.string().min(1).optional(),
  /** Who signed in, for `dx login`'s message and `--mine`. */
  subject: z.string().optional(),
});

export type StoredSignIn = z.infer<typeof storedSignInSchema>;

/** The token file's path. */
export function tokenFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DX_TOKEN_FILE) return env.DX_TOKEN_FILE;
  const config = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(config, "dx", "token.json");
}

/** The stored sign-in, or undefined when there is no file. A file that is not ours is an error, not ignored. */
export function readStoredSignIn(path = tokenFilePath()): StoredSignIn | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CliError(`cannot read the token file ${path}: ${(error as Error).message}`, ExitCode.cannotConnect);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`the token file ${path} is not JSON; run "dx logout" and "dx login" again`, ExitCode.cannotConnect);
  }
  const checked = storedSignInSchema.safeParse(parsed);
  if (!checked.success) throw new CliError(`the token file ${path} is not one dx wrote (${checked.error.issues[0]?.message}); run "dx logout" and "dx login" again`, ExitCode.cannotConnect);
  return checked.data;
}

/** Writes the sign-in atomically, owner-only: a new file is created 0600 before the token goes into it. */
export function writeStoredSignIn(signIn: StoredSignIn, path = tokenFilePath()): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, `${JSON.stringify(signIn, null, 2)}\n`, { mode: 0o600 });
  chmodSync(partial, 0o600); // the mode above is filtered by the umask; this one is not
  renameSync(partial, path);
}

/** Removes the token file; true when there was one. */
export function removeStoredSignIn(path = tokenFilePath()): boolean {
  try {
    rmSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}
