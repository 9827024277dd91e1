/**
 * Where a token's roles come from, and how a provider's role or group names
 * become ours — so that any OpenID Connect provider works by configuration.
 *
 * Providers put roles in different places:
 * - Keycloak: `realm_access.roles` (realm roles), `resource_access.<client>.roles`
 *   (client roles), `groups` with a group mapper;
 * - Entra ID: `roles` (app roles, by value), `groups` (object ids);
 * - Auth0: a namespaced claim such as `https://dataexchange.example/roles`;
 * - Okta, Google Workspace via a broker: `groups`.
 *
 * `DX_AUTH_ROLES_CLAIM` lists one or more claim paths (comma-separated); the
 * roles are the union of what they hold (a list of strings, or a space- or
 * comma-separated string). A path walks nested objects by `.`, but a claim
 * whose own name contains dots (a namespaced URL) is found by its whole name
 * first: at each level the longest key that matches the rest of the path wins.
 *
 * `DX_AUTH_ROLE_MAP` maps the provider's names to ours: `name=role`, several
 * separated by commas, a name mapped to several roles with `+`
 * (`DataExchange.Admin=admin+pii`), or a JSON object
 * (`{"/dx/admins": ["admin", "pii"]}`) for names holding `=`, `,` or `+`.
 * With a map, only mapped names grant anything — a provider group that
 * happens to be called `admin` grants nothing unless mapped — and every
 * target must be one of {@link DATAEXCHANGE_ROLES}, checked at start. Without
 * a map the names are taken as they are (providers configured with our role
 * names; the development provider).
 */
import { AuthError } from "./auth-error.js";

/** Every role and permission name the services' access policies know. */
export const DATAEXCHANGE_ROLES = ["admin", "importer", "exporter", "auditor", "service", "pii"] as const;

/** Provider name → our roles. */
export type RoleMap = ReadonlyMap<string, readonly string[]>;

/** How one trusted issuer's tokens carry roles. */
export interface RoleSource {
  /** Claim paths, read in order, roles united. */
  claims: readonly string[];
  /** Provider names → ours; undefined takes names as they are. */
  map?: RoleMap;
}

/** The default: a top-level `roles` claim with our names. */
export const DEFAULT_ROLE_SOURCE: RoleSource = { claims: ["roles"] };

/** Parses `DX_AUTH_ROLES_CLAIM`: comma-separated claim paths. */
export function parseRolesClaim(text: string): string[] {
  const paths = text
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  if (paths.length === 0) throw new Error("DX_AUTH_ROLES_CLAIM names no claim");
  for (const path of paths) if (path.startsWith(".") || path.endsWith(".") || path.includes("..")) throw new Error(`DX_AUTH_ROLES_CLAIM: "${path}" is not a claim path (names joined by single dots)`);
  return [...new Set(paths)];
}

/** Parses `DX_AUTH_ROLE_MAP` (see the module comment); throws naming the bad entry. */
export function parseRoleMap(text: string): RoleMap {
  const trimmed = text.trim();
  const entries: [string, string[]][] = [];
  if (trimmed.startsWith("{")) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (error) {
      throw new Error(`DX_AUTH_ROLE_MAP is not valid JSON: ${(error as Error).message}`);
    }
    if (!json || typeof json !== "object" || Array.isArray(json)) throw new Error("DX_AUTH_ROLE_MAP as JSON must be an object of provider name → role or list of roles");
    for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
      const roles = typeof value === "string" ? [value] : Array.isArray(value) && value.every((v) => typeof v === "string") ? (value as string[]) : undefined;
      if (!roles || roles.length === 0) throw new Error(`DX_AUTH_ROLE_MAP: "${name}" must map to a role or a non-empty list of roles`);
      entries.push([name, roles]);
    }
  } else {
    for (const item of trimmed
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "")) {
      const at = item.lastIndexOf("=");
      if (at <= 0 || at === item.length - 1) throw new Error(`DX_AUTH_ROLE_MAP: "${item}" is not name=role (use the JSON form for names with "=", "," or "+")`);
      entries.push([
        item.slice(0, at).trim(),
        item
          .slice(at + 1)
          .split("+")
          .map((r) => r.trim()),
      ]);
    }
  }
  if (entries.length === 0) throw new Error("DX_AUTH_ROLE_MAP maps nothing");
  const map = new Map<string, string[]>();
  for (const [name, roles] of entries) {
    const unknown = roles.filter((r) => !(DATAEXCHANGE_ROLES as readonly string[]).includes(r));
    if (unknown.length > 0)
      throw new Error(
        `DX_AUTH_ROLE_MAP: "${name}" maps to ${unknown.map((r) => `"${r}"`).join(", ")}, which ${unknown.length === 1 ? "is not a role" : "are not roles"} here (roles: ${DATAEXCHANGE_ROLES.join(", ")})`,
      );
    map.set(name, [...new Set([...(map.get(name) ?? []), ...roles])]);
  }
  return map;
}

/** The value at a claim path (see the module comment for names with dots). */
export function claimAt(payload: unknown, path: string): unknown {
  if (!payload || typeof payload !== "object" || Array.isArray(payload)) return undefined;
  const object = payload as Record<string, unknown>;
  if (Object.hasOwn(object, path)) return object[path];
  // The longest key first, so "https://x.example/roles" beats "https://x".
  for (let dot = path.lastIndexOf("."); dot > 0; dot = path.lastIndexOf(".", dot - 1)) {
    const head = path.slice(0, dot);
    if (Object.hasOwn(object, head)) {
      const found = claimAt(object[head], path.slice(dot + 1));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** The provider's role names in the token, from every configured claim. */
export function providerRoleNames(payload: Record<string, unknown>, claims: readonly string[]): string[] {
  const names = new Set<string>();
  for (const claim of claims) {
    const value = claimAt(payload, claim);
    if (value === undefined || value === null) continue;
    const list = typeof value === "string" ? value.split(/[\s,]+/) : Array.isArray(value) ? value : null;
    if (!list?.every((r) => typeof r === "string")) throw new AuthError("claims", `token "${claim}" claim must be a list of strings or a space-separated string`);
    for (const name of list as string[]) if (name.trim() !== "") names.add(name.trim());
  }
  return [...names];
}

/** Our roles for a verified token's claims. */
export function rolesOf(payload: Record<string, unknown>, source: RoleSource): string[] {
  const names = providerRoleNames(payload, source.claims);
  if (!source.map) return names;
  const roles = new Set<string>();
  for (const name of names) for (const role of source.map.get(name) ?? []) roles.add(role);
  return [...roles];
}

/** One line for the start-up log. */
export function describeRoleSource(source: RoleSource): string {
  return `roles from ${source.claims.join(" + ")}${source.map ? ` mapped (${[...source.map].map(([name, roles]) => `${name} → ${roles.join("+")}`).join(", ")})` : ""}`;
}
