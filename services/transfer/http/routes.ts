/**
 * The transfer service's plain HTTP/1.1 routes, in one module, served on the
 * RPC port through startRpcServer's `http1` handler:
 *
 * - `GET  /export/{format}`        a download (see export-route.ts)
 * - `POST /import`                 a multipart upload (see import-route.ts)
 * - `GET  /jobs`                   jobs, newest first (subject, entity, state, kind, from, to, page_size, page_token)
 * - `GET  /jobs/{id}`              one job
 * - `GET  /jobs/{id}/failed-rows`  its rejected rows as CSV
 *
 * Anything else falls through to Connect (and its 404). When the module is
 * disabled these routes answer 503 with a JSON reason.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { sendJson, type PlainHttpHandler } from "../../shared/rpc/index.js";
import { TransferDisabledError } from "../errors.js";
import { ANONYMOUS, type SubjectResolver } from "../subject.js";
import type { TransferContext } from "../transfer-context.js";
import { handleExport } from "./export-route.js";
import { sendError, urlOf } from "./http-util.js";
import { handleImport } from "./import-route.js";
import { handleFailedRows, handleGetJob, handleListJobs } from "./jobs-routes.js";

type Route = (req: IncomingMessage, res: ServerResponse, match: RegExpMatchArray, url: URL, subject: string) => Promise<void>;

export function createTransferHttpHandler(ctx: TransferContext, subjectOf?: SubjectResolver): PlainHttpHandler {
  const routes: [string, RegExp, Route][] = [
    ["GET", /^\/export\/([^/]+)\/?$/, (_req, res, m, url, subject) => handleExport(ctx, decodeURIComponent(m[1]!), url.searchParams, res, subject)],
    ["POST", /^\/import\/?$/, (req, res, _m, _url, subject) => handleImport(ctx, req, res, subject)],
    ["GET", /^\/jobs\/?$/, (_req, res, _m, url) => handleListJobs(ctx, url.searchParams, res)],
    ["GET", /^\/jobs\/([^/]+)\/?$/, (_req, res, m) => handleGetJob(ctx, decodeURIComponent(m[1]!), res)],
    ["GET", /^\/jobs\/([^/]+)\/failed-rows\/?$/, (_req, res, m) => handleFailedRows(ctx, decodeURIComponent(m[1]!), res)],
  ];
  return async (req, res) => {
    const url = urlOf(req);
    for (const [method, pattern, route] of routes) {
      const match = url.pathname.match(pattern);
      if (!match) continue;
      if (req.method !== method && !(method === "GET" && req.method === "HEAD")) {
        req.resume();
        res.setHeader("allow", method);
        sendJson(res, 405, { code: "method_not_allowed", message: `${req.method} is not allowed on ${url.pathname}; use ${method}` });
        return true;
      }
      if (!ctx.config.enabled) {
        req.resume();
        sendError(res, new TransferDisabledError());
        return true;
      }
      await route(req, res, match, url, subjectOf?.(req) ?? ANONYMOUS);
      return true;
    }
    return false;
  };
}
