/**
 * Any error a command can end with, as the one line a person reads and the
 * exit code a script branches on. RPC statuses map onto the exit codes: the
 * server unreachable or the caller not recognised is 3 (trying again after
 * `npm start` or `dx login` can help), a refused request is 2 (nothing was
 * written; the request must change).
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { CliError, ExitCode, type ExitCodeValue } from "./exit-codes.js";

export interface DescribedError {
  message: string;
  exitCode: ExitCodeValue;
}

/** The system error code (ECONNREFUSED, …) somewhere in the cause chain, if any. */
export function systemCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (Object.hasOwn(REASONS, code) || /^(E[A-Z_]+|ERR_SSL_\w+)$/.test(code))) return code;
    const message = (e as { message?: unknown }).message;
    if (typeof message !== "string") continue;
    const named =
      /\b(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|EAI_AGAIN|ERR_SSL_\w+|ERR_TLS_CERT_ALTNAME_INVALID|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_HAS_EXPIRED)\b/.exec(
        message,
      );
    if (named) return named[1];
    // connect-node keeps only the message of TLS failures: OpenSSL's words, mapped back to their codes.
    const worded = TLS_MESSAGES.find(([pattern]) => pattern.test(message));
    if (worded) return worded[1];
  }
  return undefined;
}

const TLS_MESSAGES: readonly [RegExp, string][] = [
  [/unable to verify the first certificate/i, "UNABLE_TO_VERIFY_LEAF_SIGNATURE"],
  [/self[- ]signed certificate in certificate chain/i, "SELF_SIGNED_CERT_IN_CHAIN"],
  [/self[- ]signed certificate/i, "DEPTH_ZERO_SELF_SIGNED_CERT"],
  [/certificate has expired/i, "CERT_HAS_EXPIRED"],
  [/does not match certificate's altnames/i, "ERR_TLS_CERT_ALTNAME_INVALID"],
  [/wrong version number|packet length too long/i, "ERR_SSL_WRONG_VERSION_NUMBER"],
];

const REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "no such host",
  EAI_AGAIN: "the host name could not be resolved",
  ETIMEDOUT: "the connection timed out",
  ECONNRESET: "the connection was reset",
  EHOSTUNREACH: "the host is unreachable",
  DEPTH_ZERO_SELF_SIGNED_CERT: "its certificate is self-signed (pass --ca with the certificate that signed it)",
  SELF_SIGNED_CERT_IN_CHAIN: "its certificate is signed by an unknown authority (pass --ca with that authority's certificate)",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "its certificate cannot be verified (pass --ca with the authority's certificate)",
  CERT_HAS_EXPIRED: "its certificate has expired",
  ERR_TLS_CERT_ALTNAME_INVALID: "its certificate is for another host name",
  ERR_SSL_WRONG_VERSION_NUMBER: "it does not speak TLS (is it an http:// server?)",
};

/** The message of a ConnectError without connect's `[code]` prefix, decoded and on one line. */
function rawMessage(error: ConnectError): string {
  let text = error.rawMessage;
  try {
    text = decodeURIComponent(text);
  } catch {
    // not percent-encoded
  }
  return text.replace(/\s+/g, " ").trim();
}

/** One line and an exit code for `error`, which happened talking to `server`. */
export function describeError(error: unknown, server: string): DescribedError {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  const code = systemCode(error);
  if (code && (Object.hasOwn(REASONS, code) || code.startsWith("ERR_SSL"))) {
    const hint = code === "ECONNREFUSED" && /^http:\/\/(127\.0\.0\.1|localhost)\b/.test(server) ? ' — is "npm start" running?' : "";
    return { message: `cannot reach ${server}: ${REASONS[code] ?? code}${hint}`, exitCode: ExitCode.cannotConnect };
  }
  if (error instanceof ConnectError) {
    const text = rawMessage(error);
    switch (error.code) {
      case Code.Unavailable:
        return { message: `cannot reach ${server}: ${text || "the service is unavailable"}`, exitCode: ExitCode.cannotConnect };
      case Code.Unauthenticated:
        return { message: `${server} did not accept who you are: ${text || "unauthenticated"} — sign in with "dx login" or pass --token`, exitCode: ExitCode.cannotConnect };
      case Code.PermissionDenied:
        return { message: `refused: ${text}`, exitCode: ExitCode.nothingWritten };
      case Code.DeadlineExceeded:
        return { message: `${server} did not answer in time: ${text}`, exitCode: ExitCode.cannotConnect };
      case Code.Unimplemented:
        return { message: `${server} does not serve this: ${text} (is it the transfer service?)`, exitCode: ExitCode.nothingWritten };
      default:
        return { message: text || `the server answered ${Code[error.code]}`, exitCode: ExitCode.nothingWritten };
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return { message: message.replace(/\s+/g, " ").trim(), exitCode: ExitCode.nothingWritten };
}
