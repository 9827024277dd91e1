/**
 * What must never reach a log line, and how it is taken out.
 *
 * Two layers, because either alone leaks:
 * - pino `redact` paths (`REDACT_PATHS`) censor known fields at the top and one
 *   level down at serialization time, cheaply;
 * - `scrubValue` walks the whole logged object (any depth) and censors fields
 *   by name (passwords, authorization, cookies, file contents) and any string
 *   that looks like a bearer token or a JWT, wherever it appears — including
 *   inside a message, an error's message or stack, or a URL.
 * Bytes (Buffer, Uint8Array) are never logged: they are file contents or
 * encoded messages; only their length is.
 */

/** The censor that replaces a secret. */
export const REDACTED = "[Redacted]";

/** Field names whose values are always censored, compared case-insensitively without `-`/`_`. */
const secretKeyNames = [
  "password",
  "passwordhash",
  "newpassword",
  "oldpassword",
  "passwd",
  "secret",
  "clientsecret",
  "token",
  "accesstoken",
  "refreshtoken",
  "idtoken",
  "authorization",
  "proxyauthorization",
  "cookie",
  "setcookie",
  "apikey",
  "xapikey",
  "privatekey",
];

/** Field names that hold raw file or message contents. */
const contentKeyNames = ["content", "contents", "filecontent", "filecontents", "rawfile", "body", "rawbody", "payload", "chunk", "chunks", "bytes", "buffer"];

const secretKeys = new Set(secretKeyNames);
const contentKeys = new Set(contentKeyNames);

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, "");
}

/** True when a field of this name is a secret (password, token, authorization, …). */
export function isSecretKey(key: string): boolean {
  return secretKeys.has(normalizeKey(key));
}

/** True when a field of this name holds raw contents (file bytes, request bodies). */
export function isContentKey(key: string): boolean {
  return contentKeys.has(normalizeKey(key));
}

/**
 * pino `redact` paths: the known places, at the top and one level down
 * (fast-redact paths are exact; deeper ones are left to `scrubValue`).
 */
export const REDACT_PATHS: string[] = [
  ...["password", "passwordHash", "token", "accessToken", "refreshToken", "secret", "clientSecret", "authorization", "cookie"].flatMap((k) => [k, `*.${k}`]),
  "headers.authorization",
  "headers.cookie",
  "req.headers.authorization",
  "req.headers.cookie",
  "*.headers.authorization",
  "*.headers.cookie",
  'headers["proxy-authorization"]',
  'headers["set-cookie"]',
];

/** A JWT (compact JWS/JWE): base64url JSON header `eyJ…`, then dot-separated parts. */
const jwtPattern = /eyJ[A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]*){1,4}/g;
/** An `Authorization`-style credential: `Bearer xyz`, `Basic xyz`. */
const authSchemePattern = /\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
/** A credential in a URL: `scheme://user:password@host`. */
const urlCredentialPattern = /\b([a-z][a-z0-9+.-]*:\/\/[^/\s:@]*):[^/\s@]+@/gi;

/** True when the string contains something that looks like a token or JWT. */
export function looksLikeSecret(text: string): boolean {
  jwtPattern.lastIndex = 0;
  authSchemePattern.lastIndex = 0;
  urlCredentialPattern.lastIndex = 0;
  return jwtPattern.test(text) || authSchemePattern.test(text) || urlCredentialPattern.test(text);
}

/** Censors tokens, JWTs and URL passwords inside a string; returns it unchanged (same string) when clean. */
export function scrubString(text: string): string {
  if (!text.includes("eyJ") && !/bearer|basic|token|:\/\//i.test(text)) return text;
  return text
    .replace(jwtPattern, REDACTED)
    .replace(authSchemePattern, (_m, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(urlCredentialPattern, (_m, prefix: string) => `${prefix}:${REDACTED}@`);
}

const maxDepth = 8;

/**
 * A copy of `value` with secrets censored at any depth. Errors become plain
 * objects (type, message, stack, code, cause) with their strings scrubbed;
 * bytes become a length. Cycles and very deep values are cut.
 */
export function scrubValue(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === "string") return scrubString(value);
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[Circular]";
  if (depth >= maxDepth) return "[Truncated]";
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`;
  if (value instanceof Date) return value;
  seen.add(value);
  try {
    if (value instanceof Error) return scrubError(value, depth, seen);
    if (Array.isArray(value)) return value.map((item) => scrubValue(item, depth + 1, seen));
    if (typeof Headers !== "undefined" && value instanceof Headers) {
      return scrubValue(Object.fromEntries(value.entries()), depth, seen);
    }
    if (value instanceof Map) return scrubValue(Object.fromEntries(value), depth, seen);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (isSecretKey(key)) out[key] = REDACTED;
      else if (isContentKey(key)) out[key] = describeContent(item);
      else out[key] = scrubValue(item, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

function scrubError(error: Error, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = { type: error.name, message: scrubString(error.message) };
  if (error.stack) out.stack = scrubString(error.stack);
  for (const [key, item] of Object.entries(error)) {
    if (key === "message" || key === "stack") continue;
    out[key] = isSecretKey(key) ? REDACTED : isContentKey(key) ? describeContent(item) : scrubValue(item, depth + 1, seen);
  }
  if (error.cause !== undefined) out.cause = scrubValue(error.cause, depth + 1, seen);
  return out;
}

/** Raw contents are never logged; only what kind and how big. */
function describeContent(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  if (typeof value === "string") return `[${value.length} chars]`;
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`;
  return REDACTED;
}
