/**
 * The transfer service's plain HTTP/1.1 routes, in one module, served on the
 * RPC port through startRpcServer's `http1` handler:
 *
 * - `GET  /export/{format}`        a download (see export-route.ts); `?source=audit` exports the audit trail
 * - `POST /import`                 a multipart upload (see import-route.ts)
 * - `GET  /jobs`                   jobs, newest first (subject, entity, state, kind, from, to, page_size, page_token)
 * - `GET  /jobs/{id}`              one job
 * - `GET  /jobs/{id}/failed-rows`  its rejected rows, in the upload's format (`view=errors`: one CSV line per error)
 * - `POST /jobs/{id}/revert`       undoes an import, as a revert job (answered when it has ended)
 *
 * With authentication on, every route needs a bearer token (401 JSON with a
 * `www-authenticate` challenge otherwise) and the permission the same RPC
 * needs (403 JSON), from the one role table in access-policy.ts. Anything
 * else falls through to Connect (and its 404). When the module is disabled
 * these routes answer 503 with a JSON reason.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { sendJson, type PlainHttpHandler } from "../../../shared/rpc/index.js";
import { requireHttpAuth, type TokenVerifier } from "../../../shared/auth/index.js";
import { TRANSFER_ACCESS_POLICY } from "../../access-policy.js";
import { httpCallerOf, type Caller } from "../../caller.js";
import { TransferDisabledError } from "../../errors.js";
import { ANONYMOUS, type SubjectResolver } from "../../subject.js";
import type { TransferContext } from "../../transfer-context.js";
import { handleExport } from "./export-route.js";
import { checkQueryEncoding, pathSegment, sendError, urlOf } from "./http-util.js";
import { handleImport } from "./import-route.js";
import { handleFailedRows, handleGetJob, handleListJobs, handleRevert } from "./jobs-routes.js";

/** A route, given the request, its decoded path parameters and its parsed URL. */
type Route = (req: IncomingMessage, res: ServerResponse, params: string[], url: URL, caller: Caller) => Promise<void>;

export interface TransferHttpOptions {
  /** Who calls, from request headers, on a server without authentication (tests). */
  subjectOf?: SubjectResolver;
  /** Require bearer tokens, verified like the RPCs' (audience dataexchange-transfer). */
  auth?: { verifier: TokenVerifier };
}

export function createTransferHttpHandler(ctx: TransferContext, options: TransferHttpOptions = {}): PlainHttpHandler {
  const routes: [string, RegExp, Route][] = [
    ["GET", /^\/export\/([^/]+)\/?$/, (req, res, [format], url, caller) => handleExport(ctx, req, format!, url.searchParams, res, caller)],
    ["POST", /^\/import\/?$/, (req, res, _params, url, caller) => handleImport(ctx, req, res, caller, url.searchParams)],
    ["GET", /^\/jobs\/?$/, (_req, res, _params, url, caller) => handleListJobs(ctx, url.searchParams, res, caller)],
    ["GET", /^\/jobs\/([^/]+)\/?$/, (_req, res, [id], url, caller) => handleGetJob(ctx, id!, url.searchParams, res, caller)],
    ["GET", /^\/jobs\/([^/]+)\/failed-rows\/?$/, (_req, res, [id], url, caller) => handleFailedRows(ctx, id!, url.searchParams, res, caller)],
    ["POST", /^\/jobs\/([^/]+)\/revert\/?$/, (req, res, [id], url, caller) => handleRevert(ctx, req, id!, url.searchParams, res, caller)],
  ];
  const auth = options.auth ? { verifier: options.auth.verifier, policy: TRANSFER_ACCESS_POLICY } : undefined;
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
      let principal;
      if (auth) {
        principal = await requireHttpAuth(req, res, auth);
        if (!principal) {
          // Answered 401: the body of a refused upload is not read.
          req.resume();
          return true;
        }
      }
      if (!ctx.config.enabled) {
        req.resume();
        sendError(res, new TransferDisabledError());
        return true;
      }
      let params: string[];
      try {
        params = match.slice(1).map(pathSegment);
        checkQueryEncoding(url.search);
      } catch (error) {
        req.resume();
        sendError(res, error);
        return true;
      }
      await route(req, res, params, url, httpCallerOf(req, principal, options.subjectOf?.(req) ?? ANONYMOUS));
      return true;
    }
    return false;
  };
}
