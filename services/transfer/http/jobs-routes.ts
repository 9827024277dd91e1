/**
 * `GET /jobs` (filters as query parameters), `GET /jobs/{id}` and
 * `GET /jobs/{id}/failed-rows` (a CSV download of the rejected rows).
 */
import type { ServerResponse } from "node:http";
import { sendJson } from "../../shared/rpc/index.js";
import { InvalidTransferRequestError } from "../errors.js";
import { failedRowsCsv } from "../jobs/failed-rows-csv.js";
import type { JobQuery } from "../jobs/job-store.js";
import type { JobKind, JobState } from "../jobs/job-types.js";
import { jobJson } from "../rpc/job-codec.js";
import { requireEntityName, type TransferContext } from "../transfer-context.js";
import { attachment, sendError, writeChunk } from "./http-util.js";

export async function handleGetJob(ctx: TransferContext, id: string, res: ServerResponse): Promise<void> {
  try {
    sendJson(res, 200, jobJson(await ctx.jobs.get(id)));
  } catch (error) {
    sendError(res, error);
  }
}

export async function handleListJobs(ctx: TransferContext, query: URLSearchParams, res: ServerResponse): Promise<void> {
  try {
    const q: JobQuery = {};
    const subject = query.get("subject");
    if (subject) q.subject = subject;
    if (query.get("entity")) q.entity = requireEntityName(query.get("entity")).name;
    const state = query.get("state");
    if (state) {
      if (!["running", "succeeded", "failed", "cancelled"].includes(state)) throw new InvalidTransferRequestError("state must be one of running, succeeded, failed, cancelled", "state");
      q.state = state as JobState;
    }
    const kind = query.get("kind");
    if (kind) {
      if (kind !== "import" && kind !== "export") throw new InvalidTransferRequestError("kind must be import or export", "kind");
      q.kind = kind as JobKind;
    }
    for (const [param, key] of [["from", "createdFrom"], ["to", "createdTo"]] as const) {
      const value = query.get(param);
      if (!value) continue;
      const date = new Date(value);
      if (Number.isNaN(date.getTime())) throw new InvalidTransferRequestError(`${param} must be an ISO 8601 date`, param);
      q[key] = date;
    }
    const page = await ctx.jobs.list(q, Number(query.get("page_size") ?? 0) || 0, query.get("page_token") ?? "");
    sendJson(res, 200, { jobs: page.jobs.map(jobJson), nextPageToken: page.nextPageToken });
  } catch (error) {
    sendError(res, error);
  }
}

export async function handleFailedRows(ctx: TransferContext, id: string, res: ServerResponse): Promise<void> {
  const csv = failedRowsCsv(ctx.jobs, id);
  try {
    const first = await csv.next(); // the job is looked up before the first byte
    res.writeHead(200, { "content-type": "text/csv; charset=utf-8", "content-disposition": attachment(`job-${id}-failed-rows.csv`), "cache-control": "no-store" });
    if (!first.done) await writeChunk(res, first.value);
    for await (const chunk of csv) if (!(await writeChunk(res, chunk))) break;
    if (!res.destroyed) res.end();
  } catch (error) {
    sendError(res, error);
  } finally {
    await csv.return(undefined);
  }
}
