/**
 * Small helpers the plain HTTP routes share: JSON errors through the service's
 * one error mapping, and writing a byte stream with backpressure that stops
 * when the client goes away.
 */
import { once } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { sendJson } from "../../../shared/rpc/index.js";
import { toHttpError } from "../../error-mapping.js";
import { InvalidTransferRequestError } from "../../errors.js";
import { requestIdOf } from "../../jobs/request-id.js";

/** Answers `{code, message}` (plus `extra`) with the status the error maps to. */
export function sendError(res: ServerResponse, error: unknown, extra: Record<string, unknown> = {}): void {
  const { status, body } = toHttpError(error);
  if (res.headersSent) {
    res.destroy(error instanceof Error ? error : undefined);
    return;
  }
  sendJson(res, status, { ...body, ...extra });
}

/** An AbortSignal that fires when the client closes the connection before the response finished. */
export function clientGone(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) controller.abort(new Error("the client closed the connection"));
  });
  return controller.signal;
}

/** Writes a chunk, waiting for the socket to drain; false when the client went away. */
export async function writeChunk(res: ServerResponse, chunk: Uint8Array): Promise<boolean> {
  if (res.destroyed) return false;
  if (res.write(chunk)) return true;
  const ac = new AbortController();
  try {
    await Promise.race([once(res, "drain", { signal: ac.signal }), once(res, "close", { signal: ac.signal })]);
  } catch {
    // aborted listeners only
  } finally {
    ac.abort();
  }
  return !res.destroyed;
}

/**
 * The Content-Type of a file a route sends: text types get `; charset=utf-8`
 * (what the formats write), binary ones nothing. Text is told by the whole
 * type — `text/*`, or a JSON, CSV or XML subtype (`+json`, `+xml` suffixes
 * too) — not by a substring: XLSX's `…openxmlformats-officedocument.spreadsheetml.sheet`
 * names XML twice and is a ZIP.
 */
export function downloadContentType(mimeType: string): string {
  if (mimeType.includes("charset")) return mimeType;
  const textual = /^text\//.test(mimeType) || /^application\/([\w.-]+\+)?(json|x-ndjson|ndjson|csv|xml)$/.test(mimeType);
  return textual ? `${mimeType}; charset=utf-8` : mimeType;
}

/** `attachment; filename="…"` with an RFC 5987 form for names that are not plain ASCII. */
export function attachment(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

/**
 * A percent-encoded path segment, decoded; a malformed escape (`/export/%`)
 * is the caller's mistake, refused with 400 — not a URIError for the server
 * to log with the request's query string.
 */
export function pathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InvalidTransferRequestError("the request path is not valid percent-encoding (a % must be followed by two hex digits of UTF-8)", "path");
  }
}

/**
 * Refuses (400) a query string that is not percent-encoded UTF-8. The URL
 * parser's `searchParams` reads `%E9` (a Latin-1 "é") as U+FFFD and keeps a
 * `%` without two hex digits as it is, so `?filter=name=Jos%E9` would export
 * the rows of another name, and `?subject=Jos%E9` list other jobs, without
 * a word. Each name and value is decoded as the path is, strictly.
 */
export function checkQueryEncoding(search: string): void {
  for (const pair of search.replace(/^\?/, "").split("&")) {
    if (!pair.includes("%")) continue;
    try {
      decodeURIComponent(pair.replace(/\+/g, " "));
    } catch {
      const name = pair.split("=")[0]!;
      const shown = JSON.stringify(name.length > 100 ? `${name.slice(0, 100)}…` : name);
      throw new InvalidTransferRequestError(
        `the query parameter ${shown} is not valid percent-encoding of UTF-8 (a % must be followed by two hex digits, and the bytes must be UTF-8: é is %C3%A9)`,
        "query",
      );
    }
  }
}

/** The request's URL, parsed against a dummy origin. */
export function urlOf(req: IncomingMessage): URL {
  return new URL(req.url ?? "/", "http://localhost");
}

/**
 * Answers 403 JSON (the shape of `requireHttpPermission`) when `denied` is a
 * reason; true when the request may go on.
 */
export function allowed(res: ServerResponse, denied: string | undefined): boolean {
  if (denied === undefined) return true;
  sendJson(res, 403, { code: "permission_denied", message: `permission denied: ${denied}` });
  return false;
}

/**
 * The client's name for its request, `X-Request-Id` (jobs/request-id.ts):
 * undefined when absent; refused (400) when it is not a request id — given
 * twice included, which Node joins with a comma.
 */
export function requestIdHeader(req: IncomingMessage): string | undefined {
  const value = req.headers["x-request-id"];
  if (value === undefined) return undefined;
  return requestIdOf(Array.isArray(value) ? value.join(", ") : value, "X-Request-Id");
}
