/**
 * `dx login`: who you are, kept for later commands in the token file
 * (token-file.ts, mode 0600). Through the sign-in the services trust — the
 * OpenID Connect provider (the development one `npm start` runs, or the
 * operator's): the browser with a redirect back to 127.0.0.1 (Authorization
 * Code + PKCE), or `--device` for a code to confirm on any device (SSH
 * sessions, containers). The refresh token is kept too, so later commands
 * renew the access token without signing in again until the sign-in ends.
 * `--with-token` stores a token pasted on stdin instead.
 * `dx logout` revokes the refresh token and removes the file.
 */
import { decodeJwt } from "jose";
import { CLIENT_IDS, RESOURCES } from "../../services/identity/dev-clients.js";
import { signInWithBrowser, signInWithDevice, TokenSet, type TokenSet as Tokens } from "../../services/shared/oidc-client/index.js";
import { usageError } from "../arguments.js";
import { humanDuration, secondsLeft } from "../credentials.js";
import { systemCode } from "../describe-error.js";
import { CliError, ExitCode } from "../exit-codes.js";
import type { Output } from "../output.js";
import { readStoredSignIn, removeStoredSignIn, tokenFilePath, writeStoredSignIn } from "../token-file.js";

export interface LoginOptions {
  device?: boolean;
  withToken?: boolean;
  issuer?: string;
  clientId?: string;
  resource?: string;
}

/** The provider: --issuer, else DX_AUTH_ISSUER when it is a URL, else the development one `npm start` runs. */
export function defaultIssuer(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.DX_AUTH_ISSUER?.split(",")[0]?.trim();
  if (configured && /^https?:\/\//.test(configured)) return configured;
  return `http://${env.IDENTITY_HOST ?? "127.0.0.1"}:${env.IDENTITY_PORT || 9000}`;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write("paste the token, then press Enter and Ctrl-D:\n");
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts).toString("utf8").trim();
}

function subjectOf(token: string): string | undefined {
  try {
    return decodeJwt(token).sub;
  } catch {
    return undefined;
  }
}

async function storePasted(out: Output): Promise<number> {
  const token = await readStdin();
  if (!token) throw usageError("no token on stdin");
  if (/\s/.test(token)) throw usageError("the pasted text has spaces or several lines; paste the token alone");
  const left = secondsLeft(token);
  if (left !== undefined && left <= 0) throw new CliError(`the token expired ${humanDuration(-left)} ago; not stored`, ExitCode.cannotConnect);
  const subject = subjectOf(token);
  writeStoredSignIn({ accessToken: token, ...(subject ? { subject } : {}) });
  out.result(`stored the token${subject ? ` of ${subject}` : ""} in ${tokenFilePath()}${left !== undefined ? `; it expires in ${humanDuration(left)}` : ""}`);
  out.event({ stored: tokenFilePath(), subject: subject ?? null, expiresInSeconds: left === undefined ? null : Math.round(left) });
  return ExitCode.done;
}

export async function runLogin(out: Output, options: LoginOptions): Promise<number> {
  if (options.withToken) {
    if (options.device || options.issuer || options.clientId || options.resource)
      throw usageError("--with-token stores a pasted token; --device, --issuer, --client-id and --resource are for signing in");
    return storePasted(out);
  }
  const issuer = options.issuer ?? defaultIssuer();
  const clientId = options.clientId ?? CLIENT_IDS.cli;
  const resource = options.resource ?? RESOURCES.transfer;
  const common = { issuer, clientId, resources: [resource] };
  const say = (line: string) => void process.stderr.write(`${line}\n`);
  let tokens: Tokens;
  try {
    tokens = options.device
      ? await signInWithDevice({
          ...common,
          onPrompt: (p) =>
            say(
              `To sign in, open ${p.verificationUriComplete ?? p.verificationUri} on any device${p.verificationUriComplete ? "" : ` and enter the code ${p.userCode}`} (the page shows ${p.userCode}; it expires in ${humanDuration(p.expiresIn)}).`,
            ),
        })
      : await signInWithBrowser({ ...common, openBrowser: (url) => say(`To sign in, open this address in your browser:\n\n  ${url.href}\n`) });
  } catch (error) {
    if (systemCode(error) === "ECONNREFUSED")
      throw new CliError(`cannot reach the identity provider at ${issuer}: connection refused — is "npm start" running? (or give --issuer)`, ExitCode.cannotConnect);
    throw new CliError(`sign-in at ${issuer} failed: ${(error as Error).message}`, ExitCode.cannotConnect);
  }
  const accessToken = await tokens.accessToken();
  const subject = tokens.subject ?? subjectOf(accessToken);
  writeStoredSignIn({ accessToken, issuer, clientId, resource, ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}), ...(subject ? { subject } : {}) });
  out.result(`signed in as ${subject ?? "?"} at ${issuer}; kept in ${tokenFilePath()}`);
  out.event({ signedIn: subject ?? null, issuer, stored: tokenFilePath() });
  return ExitCode.done;
}

export async function runLogout(out: Output): Promise<number> {
  const stored = readStoredSignIn();
  if (stored?.refreshToken && stored.issuer && stored.clientId) {
    try {
      const tokens = await TokenSet.fromRefreshToken({ issuer: stored.issuer, clientId: stored.clientId, refreshToken: stored.refreshToken });
      await tokens.revoke();
    } catch (error) {
      out.final(`could not revoke the sign-in at ${stored.issuer} (${(error as Error).message}); removing it here anyway`);
    }
  }
  const removed = removeStoredSignIn();
  out.result(removed ? `signed out: removed ${tokenFilePath()}` : `not signed in (no ${tokenFilePath()})`);
  out.event({ signedOut: removed, file: tokenFilePath() });
  return ExitCode.done;
}
