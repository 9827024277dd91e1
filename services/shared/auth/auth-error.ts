/**
 * Why a caller was not authenticated, as a value: one reason code per check
 * the verifier makes, and a message that names the check (never the token),
 * so a client developer can fix their call and a log can count failures by
 * kind without storing credentials.
 */
import { Code, ConnectError } from "@connectrpc/connect";

/** The check that failed. */
export type AuthFailureReason =
  /** No `authorization` header (or an empty one). */
  | "missing"
  /** Not `Bearer <JWT>`, or not a well-formed compact JWS. */
  | "malformed"
  /** `alg` is not one the configuration pins (`none`, `HS256`, …). */
  | "algorithm"
  /** Signed by a key other than the trusted one. */
  | "signature"
  /** `exp` is in the past, beyond the allowed clock skew. */
  | "expired"
  /** `nbf` (or `iat`) is in the future, beyond the allowed clock skew. */
  | "not_yet_valid"
  /** `aud` does not name this service. */
  | "audience"
  /** `iss` is not the configured issuer. */
  | "issuer"
  /** A required claim (`sub`, `exp`) is missing or has the wrong type. */
  | "claims"
  /** No key of the JWKS matches the token's `kid`. */
  | "unknown_key"
  /** The JWKS could not be fetched: an outage, not the caller's fault. */
  | "key_unavailable";

/** An authentication failure; `reason` says which check failed. */
export class AuthError extends Error {
  override name = "AuthError";
  constructor(
    readonly reason: AuthFailureReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /**
   * 503 when the key set is unreachable (retrying later may work and the
   * token may be fine), 401 for everything else.
   */
  get httpStatus(): 401 | 503 {
    return this.reason === "key_unavailable" ? 503 : 401;
  }

  /** The RPC status: UNAVAILABLE for a key-set outage, UNAUTHENTICATED otherwise. */
  get code(): Code {
    return this.reason === "key_unavailable" ? Code.Unavailable : Code.Unauthenticated;
  }
}

/** Header names of the RFC 6750 challenge. */
export const WWW_AUTHENTICATE = "www-authenticate";

/**
 * The RFC 6750 `WWW-Authenticate` challenge for a failure: without an error
 * code when no token was sent (the client simply has to authenticate),
 * `invalid_token` otherwise.
 */
export function bearerChallenge(error: AuthError, realm = "dataexchange"): string {
  if (error.reason === "missing") return `Bearer realm="${realm}"`;
  const description = error.message.replace(/["\\]/g, "'");
  return `Bearer realm="${realm}", error="invalid_token", error_description="${description}"`;
}

/** The ConnectError a failure becomes, with the challenge as a response header and the AuthError as cause. */
export function authErrorToConnect(error: AuthError): ConnectError {
  return new ConnectError(error.message, error.code, { [WWW_AUTHENTICATE]: bearerChallenge(error) }, undefined, error);
}

/**
 * Says a header or claim value back to the caller safely: printable ASCII
 * only and short, because it is attacker-controlled.
 */
export function quoteUntrusted(value: unknown, max = 40): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  const clean = text.replace(/[^\x20-\x7e]/g, "?");
  return JSON.stringify(clean.length > max ? `${clean.slice(0, max)}…` : clean);
}
