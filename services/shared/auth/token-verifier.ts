/**
 * Verifies OAuth2 bearer tokens (JWTs) with `jose`: signature by a trusted
 * key with a pinned algorithm, then issuer, audience, expiry and not-before
 * with a small clock skew. Every failure is an {@link AuthError} naming the
 * check that failed, never the token.
 */
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from "jose";
import { AuthError, quoteUntrusted } from "./auth-error.js";
import { checkAlgorithms, pinAlgorithms, type TrustedKey } from "./key-source.js";
import { DEFAULT_ROLE_SOURCE, parseRolesClaim, rolesOf, type RoleMap, type RoleSource } from "./role-mapping.js";

/** Default clock skew tolerated on `exp`/`nbf`, in seconds. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 30;

/** Tokens longer than this are refused before any parsing. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/**
 * One issuer the verifier trusts: its `iss` value(s), the keys its tokens are
 * signed with, and where its tokens carry roles. A verifier may trust several
 * (the identity provider, and in development also the development key); a
 * token is checked only against the keys of the issuer it names, so one
 * issuer's keys can never vouch for another's tokens.
 */
export interface TrustAnchor {
  issuer: string | readonly string[];
  key: TrustedKey;
  /** Default: a top-level `roles` claim, names taken as they are. */
  roles?: RoleSource;
}

export interface TokenVerifierOptions {
  /** The trusted key (see key-source.ts), with `issuer`: a verifier trusting one issuer. */
  key?: TrustedKey;
  /** Accepted `iss` values, with `key`. */
  issuer?: string | readonly string[];
  /** Several trusted issuers, each with its keys (instead of `key` and `issuer`). */
  anchors?: readonly TrustAnchor[];
  /** This service's audience: `aud` must contain it. */
  audience: string;
  /** Allowed JWS algorithms (asymmetric only). */
  algorithms: readonly string[];
  /** Seconds of clock skew tolerated on `exp` and `nbf`; default 30. */
  clockSkewSeconds?: number;
  /**
   * Claim(s) holding the roles, with `key` and `issuer`: comma-separated
   * paths, each an array of strings or a space/comma-separated string; a
   * dotted path reaches nested claims (`realm_access.roles`). Default `roles`.
   * See role-mapping.ts.
   */
  rolesClaim?: string;
  /** Provider role names → ours, with `key` and `issuer` (role-mapping.ts). */
  roleMap?: RoleMap;
}

/** What a verified token says about its bearer. */
export interface VerifiedToken {
  subject: string;
  roles: string[];
  issuer: string;
  audience: string[];
  expiresAt: Date;
  /** Every claim, for callers that need more (client id, scopes). */
  claims: JWTPayload;
}

export interface TokenVerifier {
  /** This verifier's audience (the service it protects). */
  readonly audience: string;
  /** Verifies a compact JWT; throws {@link AuthError}. */
  verify(token: string): Promise<VerifiedToken>;
}

interface Anchor {
  issuers: string[];
  key: TrustedKey;
  algorithms: string[];
  roles: RoleSource;
}

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const configured = checkAlgorithms(options.algorithms);
  if (!options.audience) throw new Error("a token audience must be configured");
  const given: readonly TrustAnchor[] =
    options.anchors ?? (options.key ? [{ issuer: options.issuer ?? [], key: options.key, roles: { claims: parseRolesClaim(options.rolesClaim ?? "roles"), map: options.roleMap } }] : []);
  if (given.length === 0) throw new Error("a trusted key must be configured");
  const anchors: Anchor[] = given.map((anchor) => {
    const issuers = typeof anchor.issuer === "string" ? [anchor.issuer] : [...anchor.issuer];
    if (issuers.length === 0 || issuers.some((i) => i === "")) throw new Error("a token issuer must be configured");
    const algorithms = anchor.key.kind === "key" ? pinAlgorithms(anchor.key.key, configured, anchor.key.source) : configured;
    return { issuers, key: anchor.key, algorithms, roles: anchor.roles ?? DEFAULT_ROLE_SOURCE };
  });
  const allIssuers = anchors.flatMap((a) => a.issuers);
  const twice = allIssuers.find((issuer, i) => allIssuers.indexOf(issuer) !== i);
  if (twice !== undefined) throw new Error(`the issuer "${twice}" is trusted twice; each issuer has one key source`);
  const skew = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;

  /**
   * The anchor of the issuer the token names (read unverified: that issuer's
   * keys then decide), so a token from an issuer not trusted here is refused
   * as such, before any key is looked for.
   */
  function anchorFor(token: string): Anchor {
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch (error) {
      // jose says what is wrong with it, against the one issuer there is.
      if (anchors.length === 1) return anchors[0]!;
      throw new AuthError("malformed", "malformed token: its claims are not a JSON object", { cause: error });
    }
    if (typeof iss !== "string") {
      if (anchors.length === 1) return anchors[0]!;
      throw new AuthError("claims", 'token has no "iss" claim');
    }
    const found = anchors.find((a) => a.issuers.includes(iss));
    if (!found) throw new AuthError("issuer", `token issuer is not ${allIssuers.map((i) => `"${i}"`).join(" or ")}`);
    return found;
  }

  async function verify(token: string): Promise<VerifiedToken> {
    checkShape(token);
    const anchor = anchorFor(token);
    let payload: JWTPayload;
    try {
      const verifyOptions = { issuer: anchor.issuers, audience: options.audience, algorithms: anchor.algorithms, clockTolerance: skew, requiredClaims: ["exp", "sub"] };
      const result = anchor.key.kind === "key" ? await jwtVerify(token, anchor.key.key, verifyOptions) : await jwtVerify(token, anchor.key.getKey, verifyOptions);
      payload = result.payload;
    } catch (error) {
      throw explain(error, token, { algorithms: anchor.algorithms, issuers: allIssuers, audience: options.audience, skew });
    }
    if (typeof payload.sub !== "string" || payload.sub === "") throw new AuthError("claims", 'token "sub" claim must be a non-empty string');
    return {
      subject: payload.sub,
      roles: rolesOf(payload, anchor.roles),
      issuer: payload.iss!,
      audience: typeof payload.aud === "string" ? [payload.aud] : [...(payload.aud ?? [])],
      expiresAt: new Date(payload.exp! * 1000),
      claims: payload,
    };
  }

  return { audience: options.audience, verify };
}

/**
 * Pulls the token out of an `authorization` header value. Scheme names are
 * case-insensitive (RFC 7235); anything but Bearer is refused.
 */
export function bearerToken(header: string | null | undefined): string {
  if (header === null || header === undefined || header.trim() === "") {
    throw new AuthError("missing", "missing bearer token: send the header 'authorization: Bearer <JWT>'");
  }
  const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(header);
  if (!match) throw new AuthError("malformed", "malformed authorization header: expected 'Bearer <JWT>'");
  if (match[1]!.toLowerCase() !== "bearer") throw new AuthError("malformed", `unsupported authorization scheme ${quoteUntrusted(match[1], 20)}: expected Bearer`);
  return match[2]!;
}

const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

function checkShape(token: string): void {
  if (token.length > MAX_TOKEN_LENGTH) throw new AuthError("malformed", `malformed token: longer than ${MAX_TOKEN_LENGTH} characters`);
  if (!JWS_COMPACT.test(token)) throw new AuthError("malformed", "malformed token: not a JWT (expected three base64url parts separated by dots)");
}

interface Expected {
  algorithms: string[];
  issuers: string[];
  audience: string;
  skew: number;
}

/** Turns a jose error into the AuthError that names the failed check. */
function explain(error: unknown, token: string, expected: Expected): AuthError {
  const cause = { cause: error };
  if (error instanceof AuthError) return error;
  if (error instanceof errors.JWTExpired) {
    const exp = typeof error.payload.exp === "number" ? new Date(error.payload.exp * 1000).toISOString() : "unknown";
    return new AuthError("expired", `token expired at ${exp} (beyond the allowed clock skew of ${expected.skew} s)`, cause);
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case "aud":
        return new AuthError("audience", `token audience does not include "${expected.audience}"`, cause);
      case "iss":
        return new AuthError("issuer", `token issuer is not ${expected.issuers.map((i) => `"${i}"`).join(" or ")}`, cause);
      case "nbf":
      case "iat":
        if (error.reason === "check_failed")
          return new AuthError("not_yet_valid", `token is not valid yet ("${error.claim}" is in the future beyond the allowed clock skew of ${expected.skew} s)`, cause);
        return new AuthError("claims", `token "${error.claim}" claim is invalid`, cause);
      default:
        return new AuthError("claims", error.reason === "missing" ? `token has no "${error.claim}" claim` : `token "${error.claim}" claim is invalid`, cause);
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return new AuthError("algorithm", `token algorithm ${quoteUntrusted(headerAlg(token), 20)} is not allowed (allowed: ${expected.algorithms.join(", ")})`, cause);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new AuthError("signature", "token signature is invalid (not signed by a trusted key)", cause);
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new AuthError("unknown_key", 'no trusted key matches the token (unknown "kid")', cause);
  }
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    return new AuthError("key_unavailable", "the token signing keys could not be fetched; try again later", cause);
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return new AuthError("malformed", `malformed token: ${error.message}`, cause);
  // Fetch failures of a remote JWKS (connection refused, DNS, HTTP errors): undici's "fetch failed" TypeError, jose's JOSEError.
  if (error instanceof errors.JOSEError ? error.code === "ERR_JOSE_GENERIC" : error instanceof TypeError && error.message === "fetch failed") {
    return new AuthError("key_unavailable", "the token signing keys could not be fetched; try again later", cause);
  }
  // A key type that does not fit the algorithm surfaces as a TypeError from jose.
  if (error instanceof TypeError) return new AuthError("algorithm", `token algorithm ${quoteUntrusted(headerAlg(token), 20)} does not fit the trusted key`, cause);
  return new AuthError("malformed", "token could not be verified", cause);
}

function headerAlg(token: string): unknown {
  try {
    return decodeProtectedHeader(token).alg;
  } catch {
    return "unreadable";
  }
}
