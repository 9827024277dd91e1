/**
 * The answer to a blocking upload (`POST /import`, single or bundle), once
 * its import ended: the summary and the first row errors as JSON — 200, or
 * 422 when a strict import wrote nothing — or the mapped error. One place for
 * both routes, so a single import and a bundle answer alike.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Code } from "@connectrpc/connect";
import type { RowError } from "../../../domain/index.js";
import { sendJson } from "../../../shared/rpc/index.js";
import { codeName } from "../../error-mapping.js";
import { sendError } from "./http-util.js";
import { readUpload, type Upload, type UploadRules } from "./multipart-upload.js";

/** Row errors in the JSON answer; all of them are at /jobs/{id}/failed-rows. */
export const RESPONSE_ERRORS = 1000;

/** What an upload's import gave: its job, its summary, the row errors kept for the answer, or why it failed. */
export interface UploadResult<Summary> {
  jobId?: string;
  summary?: Summary;
  errors: RowError[];
  errorCount: number;
  error?: unknown;
}

type UploadEvent<Summary> = { kind: "started"; jobId: string } | ({ kind: "row_error" } & RowError) | ({ kind: "summary" } & Summary) | { kind: "progress" };

/**
 * Runs an import's events to their end, keeping what the answer needs;
 * `onStarted` is told the job's id as soon as it exists (an async upload
 * answers then). A thrown error is kept as the result's `error`.
 */
export async function collectUpload<Summary>(events: () => AsyncIterable<UploadEvent<Summary>>, onStarted?: (jobId: string) => void): Promise<UploadResult<Summary>> {
  const result: UploadResult<Summary> = { errors: [], errorCount: 0 };
  try {
    for await (const event of events()) {
      if (event.kind === "started") {
        result.jobId = event.jobId;
        onStarted?.(event.jobId);
      } else if (event.kind === "row_error") {
        result.errorCount++;
        if (result.errors.length < RESPONSE_ERRORS) {
          // The uploader sees the file's own values; the note of which are personal is for the job's views.
          const { kind: _kind, personal: _personal, ...error } = event;
          result.errors.push(error);
        }
      } else if (event.kind === "summary") result.summary = event;
    }
  } catch (error) {
    result.error = error;
  }
  return result;
}

/**
 * Waits for `running`, removes the spooled file whatever happened, and
 * answers — unless the client has gone. `what` names the import in the
 * messages ("import", "bundle import").
 */
export async function answerUpload<Summary extends { strictAborted?: boolean; error?: string }>(
  res: ServerResponse,
  gone: AbortSignal,
  upload: Upload,
  running: Promise<UploadResult<Summary>>,
  what: string,
): Promise<void> {
  let result: UploadResult<Summary>;
  try {
    result = await running;
  } finally {
    await upload.file?.remove();
  }
  if (gone.aborted) return;
  if (result.error !== undefined || !result.summary) {
    sendError(res, result.error ?? new Error(`the ${what} ended without a summary`), { jobId: result.jobId, ...(result.summary ?? {}), errors: result.errors, errorCount: result.errorCount });
    return;
  }
  const { summary } = result;
  const body = { ...summary, errors: result.errors, errorCount: result.errorCount, errorsTruncated: result.errorCount > result.errors.length };
  if (summary.strictAborted) sendJson(res, 422, { code: codeName(Code.FailedPrecondition), message: summary.error ?? `strict ${what} aborted`, ...body });
  else sendJson(res, 200, body);
}

/**
 * Reads the upload (multipart-upload.ts), or answers its refusal: then the
 * rest of the body is read and discarded, the connection closed, and
 * `undefined` returned — unless the client has gone, who is answered nothing.
 */
export async function readUploadOrRefuse(req: IncomingMessage, res: ServerResponse, gone: AbortSignal, rules: UploadRules): Promise<Upload | undefined> {
  try {
    return await readUpload(req, rules);
  } catch (error) {
    if (gone.aborted) return undefined;
    // Stop reading what is left of a refused upload, discard it, and close.
    req.resume();
    res.setHeader("connection", "close");
    sendError(res, error, { errors: [], errorCount: 0 });
    return undefined;
  }
}
