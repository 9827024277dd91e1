/**
 * The authenticated caller of one call, and how its rights are computed.
 *
 * Rights are permissions (plain strings such as `read:users` or `pii`)
 * granted by roles through one table per service. A service calling another
 * on behalf of an end user forwards that user's identity in two headers; the
 * call then gets only what both may do (the intersection), so neither a
 * compromised service nor a crafted header can widen a user's rights.
 */
import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import type { VerifiedToken } from "./token-verifier.js";

/** Header naming the end user a service calls for. */
export const ON_BEHALF_OF_HEADER = "x-dx-on-behalf-of";
/** Header listing that user's roles, comma-separated. */
export const ON_BEHALF_ROLES_HEADER = "x-dx-on-behalf-roles";

/** Role → permissions, for one service: its single source of truth for access. */
export interface AccessPolicy {
  /** What each role grants. Roles not listed grant nothing. */
  roles: Readonly<Record<string, readonly string[]>>;
  /** The role of calling services: only its holders may forward a user. Default `service`. */
  serviceRole?: string;
  /** What a service may do when it forwards no user (e.g. read metadata). Default nothing. */
  serviceAlone?: readonly string[];
}

/** The end user a service forwarded. */
export interface ForwardedUser {
  subject: string;
  roles: readonly string[];
}

/** Who is calling and what this call may do. */
export interface Principal {
  /** The token's `sub`: a user, or a service's own identity. */
  subject: string;
  /** The token's roles. */
  roles: readonly string[];
  issuer: string;
  expiresAt: Date;
  /** Set when a service (role `service`) calls for an end user. */
  onBehalfOf?: ForwardedUser;
  /** The effective permissions of this call (already intersected). */
  permissions: ReadonlySet<string>;
}

/**
 * The principal in `HandlerContext.values`. Undefined means the server runs
 * without authentication (a test or embedded server built without `auth`);
 * every server started by `main()` has it.
 */
export const principalKey = createContextKey<Principal | undefined>(undefined, { description: "dataexchange authenticated principal" });

/** The principal of a call, if the server authenticates. */
export function principalOf(context: Pick<HandlerContext, "values">): Principal | undefined {
  return context.values.get(principalKey);
}

/** The person responsible for a call: the forwarded user, else the caller (for audit records). */
export function actingSubject(principal: Principal): string {
  return principal.onBehalfOf?.subject ?? principal.subject;
}

/** True when the principal holds the permission. */
export function hasPermission(principal: Principal, permission: string): boolean {
  return principal.permissions.has(permission);
}

/** Every permission the roles grant under the policy. */
export function permissionsOf(policy: AccessPolicy, roles: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const role of roles) for (const permission of policy.roles[role] ?? []) out.add(permission);
  return out;
}

/** Reads a header (Fetch `Headers` or Node's incoming headers object). */
export type HeaderReader = (name: string) => string | null | undefined;

/**
 * Builds the principal from a verified token and the request's headers.
 *
 * The on-behalf-of headers count only when the caller holds the service
 * role; from anyone else they are ignored, so a client cannot claim another
 * identity or extra roles by sending them. A forwarded user can never carry
 * the service role itself (no chains of delegation).
 */
export function resolvePrincipal(token: VerifiedToken, header: HeaderReader, policy: AccessPolicy): Principal {
  const serviceRole = policy.serviceRole ?? "service";
  const own = permissionsOf(policy, token.roles);
  const base = { subject: token.subject, roles: token.roles, issuer: token.issuer, expiresAt: token.expiresAt };
  if (!token.roles.includes(serviceRole)) return { ...base, permissions: own };
  const forwarded = readForwardedUser(header, serviceRole);
  if (!forwarded) return { ...base, permissions: new Set((policy.serviceAlone ?? []).filter((p) => own.has(p))) };
  const theirs = permissionsOf(policy, forwarded.roles);
  return { ...base, onBehalfOf: forwarded, permissions: new Set([...own].filter((p) => theirs.has(p))) };
}

/** Thrown when a service sends on-behalf-of headers that do not make sense. */
export class ForwardedIdentityError extends Error {
  override name = "ForwardedIdentityError";
}

const SUBJECT = /^[\x21-\x7e]{1,256}$/;
const ROLE = /^[A-Za-z0-9._:-]{1,64}$/;

function readForwardedUser(header: HeaderReader, serviceRole: string): ForwardedUser | undefined {
  const subject = header(ON_BEHALF_OF_HEADER)?.trim();
  const rolesText = header(ON_BEHALF_ROLES_HEADER);
  if (!subject) {
    if (rolesText) throw new ForwardedIdentityError(`${ON_BEHALF_ROLES_HEADER} was sent without ${ON_BEHALF_OF_HEADER}`);
    return undefined;
  }
  if (!SUBJECT.test(subject)) throw new ForwardedIdentityError(`${ON_BEHALF_OF_HEADER} must be 1 to 256 printable ASCII characters`);
  const roles = (rolesText ?? "")
    .split(",")
    .map((r) => r.trim())
    .filter((r) => r !== "");
  const bad = roles.find((r) => !ROLE.test(r));
  if (bad !== undefined) throw new ForwardedIdentityError(`${ON_BEHALF_ROLES_HEADER} has a malformed role name`);
  return { subject, roles: [...new Set(roles.filter((r) => r !== serviceRole))] };
}

/**
 * The headers a service adds to a call it makes for its own caller (the
 * transfer service calling the records service). Pass them with the
 * service's own bearer token.
 */
export function onBehalfOfHeaders(user: { subject: string; roles: readonly string[] }): Record<string, string> {
  return { [ON_BEHALF_OF_HEADER]: user.subject, [ON_BEHALF_ROLES_HEADER]: user.roles.join(",") };
}
