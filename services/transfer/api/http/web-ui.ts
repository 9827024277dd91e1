/**
 * The web UI (web/, built by scripts/build-web.mjs into dist/web), served by
 * the transfer service on its own port, so that the UI's Connect calls are
 * same-origin (no CORS) and `npm start` needs nothing else.
 *
 * What it answers, and nothing more (every other path falls through to the
 * API routes and then to Connect's JSON 404):
 *
 * - `GET /`, `/index.html`, `/auth/callback`: the app's shell, `no-cache` (a
 *   new build is picked up at the next load). The UI routes with the URL's
 *   fragment (`/#/jobs`), so no other path is the shell: an unknown path is a
 *   404 rather than a page that loads and then says "not found", and no UI
 *   path can ever shadow an API route (`/export/…`, `/jobs/…`).
 *   `/auth/callback` is the redirect URI registered for the `dataexchange-web`
 *   client (services/identity/dev-clients.ts).
 * - `GET /assets/<name>`: Vite's content-hashed files, `immutable` for a year.
 * - `GET /web-config.json`: what the browser needs to sign in (the issuer and
 *   the client id), `no-cache`.
 * - Other files at the build's top level (an icon), cached for an hour.
 *
 * Every answer carries a strict Content-Security-Policy (scripts and styles
 * from this origin only — the build has no inline script —, connections to
 * this origin and the identity provider, no frames, no plugins),
 * `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` (the
 * callback URL carries the authorization code) and `X-Frame-Options: DENY`.
 *
 * The API routes are tried first (routes.ts), so they win over anything here.
 */
import { createReadStream, existsSync, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join } from "node:path";
import { sendJson, type PlainHttpHandler } from "../../../shared/rpc/index.js";

export interface WebUiOptions {
  /** The built UI (index.html, assets/). */
  dir: string;
  /** The OpenID Connect issuer the UI signs in with; without it the UI says that sign-in is not configured. */
  issuer?: string;
  /** The UI's client id at that issuer; default `dataexchange-web`. */
  clientId?: string;
}

/** Paths that answer the app's shell. */
const SHELL_PATHS = new Set(["/", "/index.html", "/auth/callback"]);
/** Names a served file may have: no slashes, no `..`, nothing hidden. */
const FILE_NAME = /^[\w-][\w.-]*$/;
const IMMUTABLE = "public, max-age=31536000, immutable";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/** The Content-Security-Policy of every UI answer: this origin, plus the identity provider for its token and discovery calls. */
export function webUiContentSecurityPolicy(issuer?: string): string {
  const provider = issuer ? ` ${new URL(issuer).origin}` : "";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self'${provider}`,
    `form-action 'self'${provider}`,
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join("; ");
}

/** The handler for the UI's paths (see the module comment); false for any other path. */
export function createWebUiHandler(options: WebUiOptions): PlainHttpHandler {
  const csp = webUiContentSecurityPolicy(options.issuer);
  const config = JSON.stringify({ issuer: options.issuer ?? null, clientId: options.clientId ?? "dataexchange-web" });
  const securityHeaders = (res: ServerResponse) => {
    res.setHeader("content-security-policy", csp);
    res.setHeader("x-content-type-options", "nosniff");
    res.setHeader("referrer-policy", "no-referrer");
    res.setHeader("x-frame-options", "DENY");
  };
  return (req, res) => {
    const path = pathnameOf(req);
    if (path === undefined) return false;
    let target: { file: string; cache: string } | { json: string } | undefined;
    if (SHELL_PATHS.has(path)) target = { file: join(options.dir, "index.html"), cache: "no-cache" };
    else if (path === "/web-config.json") target = { json: config };
    else if (path.startsWith("/assets/") && FILE_NAME.test(path.slice("/assets/".length))) target = { file: join(options.dir, "assets", path.slice("/assets/".length)), cache: IMMUTABLE };
    else if (FILE_NAME.test(path.slice(1)) && path.slice(1) !== "index.html") target = { file: join(options.dir, path.slice(1)), cache: "public, max-age=3600" };
    if (!target) return false;
    if ("file" in target && !isFile(target.file)) {
      // The shell missing means the UI was never built; a missing asset is an ordinary 404 (Connect's).
      if (!SHELL_PATHS.has(path)) return false;
      req.resume();
      securityHeaders(res);
      sendJson(res, 503, { code: "unavailable", message: `the web UI is not built (no ${target.file}): run "npm run setup"` });
      return true;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      req.resume();
      res.setHeader("allow", "GET, HEAD");
      sendJson(res, 405, { code: "method_not_allowed", message: `${req.method} is not allowed on ${path}; use GET` });
      return true;
    }
    req.resume();
    securityHeaders(res);
    if ("json" in target) {
      res.writeHead(200, { "content-type": "application/json; charset=utf-8", "cache-control": "no-cache", "content-length": Buffer.byteLength(target.json) });
      res.end(req.method === "HEAD" ? undefined : target.json);
      return true;
    }
    sendFile(req, res, target.file, target.cache);
    return true;
  };
}

function sendFile(req: IncomingMessage, res: ServerResponse, file: string, cache: string): void {
  const type = CONTENT_TYPES[extname(file)] ?? "application/octet-stream";
  res.writeHead(200, { "content-type": type, "cache-control": cache, "content-length": statSync(file).size });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on("error", (error) => res.destroy(error));
  stream.pipe(res);
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

/** The request's path, or undefined when it is not a plain absolute path (left to the API's own answer). */
function pathnameOf(req: IncomingMessage): string | undefined {
  const raw = req.url ?? "/";
  if (!raw.startsWith("/")) return undefined;
  const end = raw.search(/[?#]/);
  return end === -1 ? raw : raw.slice(0, end);
}

/** Tries `first`, then `second`: the API routes, then the UI. */
export function chainHttpHandlers(first: PlainHttpHandler, second: PlainHttpHandler): PlainHttpHandler {
  return async (req, res) => (await first(req, res)) || second(req, res);
}
