/**
 * The same bearer-token check for plain HTTP routes (downloads, multipart
 * uploads): 401 JSON with an RFC 6750 challenge when the token is missing or
 * bad, 403 JSON when the principal lacks a permission. The JSON shape is the
 * one the services' other HTTP errors use: `{ code, message }`.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { NodeServerResponse } from "../rpc/connection-sniffer.js";
import { sendJson } from "../rpc/send-json.js";
import { AuthError, WWW_AUTHENTICATE, bearerChallenge } from "./auth-error.js";
import { ForwardedIdentityError, hasPermission, resolvePrincipal, type AccessPolicy, type Principal } from "./principal.js";
import { bearerToken, type TokenVerifier } from "./token-verifier.js";

export interface HttpAuthOptions {
  verifier: TokenVerifier;
  policy: AccessPolicy;
}

/** The outcome of checking one request: a principal, or the response to send. */
export type HttpAuthResult = { ok: true; principal: Principal } | { ok: false; status: 400 | 401 | 503; headers: Record<string, string>; body: { code: string; reason?: string; message: string } };

/** Checks a request's bearer token without answering it. */
export async function authenticateHttp(req: { headers: IncomingHttpHeaders }, options: HttpAuthOptions): Promise<HttpAuthResult> {
  const header = (name: string): string | undefined => {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  try {
    const verified = await options.verifier.verify(bearerToken(header("authorization")));
    return { ok: true, principal: resolvePrincipal(verified, header, options.policy) };
  } catch (error) {
    if (error instanceof AuthError) {
      const code = error.httpStatus === 503 ? "unavailable" : "unauthenticated";
      return { ok: false, status: error.httpStatus, headers: { [WWW_AUTHENTICATE]: bearerChallenge(error) }, body: { code, reason: error.reason, message: error.message } };
    }
    if (error instanceof ForwardedIdentityError) return { ok: false, status: 400, headers: {}, body: { code: "invalid_argument", message: error.message } };
    throw error;
  }
}

/**
 * For route handlers: the principal, or undefined after answering 401 (or
 * 503 when the key set is unreachable). Call it before reading the body.
 *
 * @example
 * const principal = await requireHttpAuth(req, res, auth);
 * if (!principal) return true; // answered
 */
export async function requireHttpAuth(req: { headers: IncomingHttpHeaders }, res: NodeServerResponse, options: HttpAuthOptions): Promise<Principal | undefined> {
  const result = await authenticateHttp(req, options);
  if (result.ok) return result.principal;
  for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
  sendJson(res, result.status, result.body);
  return undefined;
}

/** True when the principal holds the permission; otherwise answers 403 JSON and returns false. */
export function requireHttpPermission(principal: Principal, permission: string, res: NodeServerResponse, message?: string): boolean {
  if (hasPermission(principal, permission)) return true;
  sendJson(res, 403, { code: "permission_denied", message: message ?? `permission denied: this needs the "${permission}" permission` });
  return false;
}
