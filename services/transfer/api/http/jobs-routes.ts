/**
 * `GET /jobs` (filters as query parameters), `GET /jobs/{id}` and
 * `GET /jobs/{id}/failed-rows` (the rejected rows, in the upload's format, or
 * with `view=errors` one CSV line per error).
 *
 * With authentication on, importers and exporters see their own jobs only
 * (the list is narrowed to them; another user's job is 403), auditors and
 * admins everyone's; personal values in them only with `pii` (job-views.ts).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { sendJson } from "../../../shared/rpc/index.js";
import { InvalidTransferRequestError } from "../../errors.js";
import { FAILED_ROWS_VIEWS, failedRowsFile, type FailedRowsFile, type FailedRowsView } from "../../jobs/failed-rows-file.js";
import type { JobQuery } from "../../jobs/job-store.js";
import type { JobKind, JobState } from "../../jobs/job-types.js";
import { jobJson } from "../rpc/job-codec.js";
import { requireEntityName, type TransferContext } from "../../transfer-context.js";
import { allowed, attachment, clientGone, downloadContentType, sendError, writeChunk } from "./http-util.js";
import { revertImport } from "../../jobs/revert-job.js";
import { dateParam, refuseUnknownQuery, wholeNumberParam, type ParamSpec } from "./request-params.js";
import { checkJobAccess, denial, listedJobsSubject, PERMISSIONS, seesPersonalData } from "../../access-policy.js";
import { jobForReader } from "../../jobs/job-views.js";
import type { Caller } from "../../caller.js";
import type { JobDocument } from "../../jobs/job-types.js";
import { requestIdOf } from "../../jobs/request-id.js";

/** Whether the caller may read jobs at all (own or everyone's); answers 403 when not. */
function mayReadJobs(caller: Caller, res: ServerResponse): boolean {
  const p = caller.principal;
  if (!p || p.permissions.has(PERMISSIONS.readOwnJobs) || p.permissions.has(PERMISSIONS.readAllJobs)) return true;
  return allowed(res, denial("reading jobs", PERMISSIONS.readOwnJobs, p));
}

/** The job, when the caller may read it; undefined after answering 403. */
async function readableJob(ctx: TransferContext, id: string, caller: Caller, res: ServerResponse): Promise<JobDocument | undefined> {
  const job = await ctx.jobs.get(id);
  return !caller.principal || allowed(res, checkJobAccess(caller.principal, job._id, job.subject, "read")) ? job : undefined;
}

/** The query parameters of `GET /jobs`. */
export const LIST_JOBS_PARAMS: readonly ParamSpec[] = ["subject", "entity", "state", "kind", "from", "to", "request_id", "page_size", "page_token"].map((name) => ({ name }));

export async function handleGetJob(ctx: TransferContext, id: string, query: URLSearchParams, res: ServerResponse, caller: Caller): Promise<void> {
  try {
    refuseUnknownQuery(query, [], "GET /jobs/{id}");
    if (!mayReadJobs(caller, res)) return;
    const job = await readableJob(ctx, id, caller, res);
    if (job) sendJson(res, 200, jobJson(jobForReader(job, seesPersonalData(caller.principal))));
  } catch (error) {
    sendError(res, error);
  }
}

export async function handleListJobs(ctx: TransferContext, query: URLSearchParams, res: ServerResponse, caller: Caller): Promise<void> {
  try {
    refuseUnknownQuery(query, LIST_JOBS_PARAMS, "GET /jobs");
    if (!mayReadJobs(caller, res)) return;
    const q: JobQuery = {};
    const subject = query.get("subject");
    if (subject) q.subject = subject;
    if (caller.principal) {
      const listed = listedJobsSubject(caller.principal, q.subject);
      if (!allowed(res, listed.denied)) return;
      if (listed.subject) q.subject = listed.subject;
    }
    if (query.get("entity")) q.entity = requireEntityName(query.get("entity")).name;
    const state = query.get("state");
    if (state) {
      if (!["running", "succeeded", "failed", "cancelled"].includes(state)) throw new InvalidTransferRequestError("state must be one of running, succeeded, failed, cancelled", "state");
      q.state = state as JobState;
    }
    const kind = query.get("kind");
    if (kind) {
      if (kind !== "import" && kind !== "export" && kind !== "revert") throw new InvalidTransferRequestError("kind must be import, export or revert", "kind");
      q.kind = kind as JobKind;
    }
    const from = dateParam(query, "from");
    const to = dateParam(query, "to");
    if (from) q.createdFrom = from;
    if (to) q.createdTo = to;
    // Given empty, refused (not taken as absent): the client looks for one request's job.
    const requestId = query.get("request_id");
    if (requestId !== null) q.requestId = requestIdOf(requestId, "request_id");
    // 0 or absent: the default page; more than the largest page is that page (as ListJobs does).
    const pageSize = wholeNumberParam(query, "page_size") ?? 0;
    const page = await ctx.jobs.list(q, pageSize, query.get("page_token") ?? "");
    const personal = seesPersonalData(caller.principal);
    sendJson(res, 200, { jobs: page.jobs.map((job) => jobJson(jobForReader(job, personal))), nextPageToken: page.nextPageToken });
  } catch (error) {
    sendError(res, error);
  }
}

/**
 * `POST /jobs/{id}/revert`: undoes the import (jobs/revert-job.ts) and answers
 * 200 with the revert job once it has ended; 412 when the job cannot be
 * reverted. It takes no query parameters and no body: a body, like an unknown
 * parameter, is refused (400) rather than ignored.
 */
export async function handleRevert(ctx: TransferContext, req: IncomingMessage, id: string, query: URLSearchParams, res: ServerResponse, caller: Caller): Promise<void> {
  try {
    refuseUnknownQuery(query, [], "POST /jobs/{id}/revert");
    if (await hasBody(req)) throw new InvalidTransferRequestError("POST /jobs/{id}/revert takes no body: the job id in the path says what to revert", "body");
    const p = caller.principal;
    if (p && !p.permissions.has(PERMISSIONS.revertOwnImports) && !p.permissions.has(PERMISSIONS.revertAllImports) && !allowed(res, denial("reverting imports", PERMISSIONS.revertOwnImports, p)))
      return;
    const job = await revertImport(ctx, id, caller, clientGone(res));
    sendJson(res, 200, jobJson(jobForReader(job, seesPersonalData(p))));
  } catch (error) {
    sendError(res, error);
  }
}

/** Whether the request carries body bytes (all read, so the connection stays usable; none are kept). */
async function hasBody(req: IncomingMessage): Promise<boolean> {
  let seen = 0;
  for await (const chunk of req) seen += (chunk as Buffer).length;
  return seen > 0;
}

/** The query parameters of `GET /jobs/{id}/failed-rows`. */
export const FAILED_ROWS_PARAMS: readonly ParamSpec[] = [{ name: "view" }, { name: "part" }];

/** `GET /jobs/{id}/failed-rows?view=rows|errors[&part=users.csv]`: the rejected rows in the upload's format (default; a bundle's, one part's), or one CSV line per error. */
export async function handleFailedRows(ctx: TransferContext, id: string, query: URLSearchParams, res: ServerResponse, caller: Caller): Promise<void> {
  let file: FailedRowsFile | undefined;
  try {
    refuseUnknownQuery(query, FAILED_ROWS_PARAMS, "GET /jobs/{id}/failed-rows");
    const view = query.get("view") ?? "rows";
    if (!(FAILED_ROWS_VIEWS as readonly string[]).includes(view)) throw new InvalidTransferRequestError(`view must be ${FAILED_ROWS_VIEWS.join(" or ")}, not ${JSON.stringify(view)}`, "view");
    if (!mayReadJobs(caller, res)) return;
    const job = await readableJob(ctx, id, caller, res);
    if (!job) return;
    file = await failedRowsFile(ctx, job, view as FailedRowsView, seesPersonalData(caller.principal), query.get("part") ?? undefined);
    const first = await file.chunks.next(); // what fails at the start is still a JSON error with its status
    res.writeHead(200, { "content-type": downloadContentType(file.mimeType), "content-disposition": attachment(file.fileName), "cache-control": "no-store" });
    if (!first.done) await writeChunk(res, first.value);
    for await (const chunk of file.chunks) if (!(await writeChunk(res, chunk))) break;
    if (!res.destroyed) res.end();
  } catch (error) {
    if (!res.headersSent) sendError(res, error);
    else res.destroy();
  } finally {
    await file?.chunks.return(undefined);
  }
}
