/**
 * `POST /import`: a multipart upload for curl and browsers (which cannot
 * stream request bodies over HTTP/2 RPCs), parsed with busboy as it arrives:
 * the file part is handed to the import job as a stream, never buffered.
 *
 * Form fields: `file` (the file), `format`, `entity`, `mode`
 * (insert|upsert|merge|skip-existing), `strict`, `dry_run`, `options` (JSON
 * object), `mapping` (JSON array of `{source, field, transforms}`), in any
 * order. When the fields come before the file, the file is streamed straight
 * into the job; when they come after it (`curl -F file=@users.json -F
 * format=json …`, the order people type), the file is spooled to a temporary
 * file — never past the size limit — until the fields are known, then read
 * from there and deleted. The answer is JSON: the job's summary and its
 * first 1000 row errors.
 *
 * With authentication on, a caller who may import nothing is refused (403)
 * before the body is read, and the import the fields describe is checked
 * (entity, dry run) before the file is.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import busboy from "busboy";
import { z } from "zod";
import { sendJson } from "../../shared/rpc/index.js";
import { codeName } from "../error-mapping.js";
import { InvalidTransferRequestError } from "../errors.js";
import { importJob, type ImportJobRequest, type ImportJobSummary } from "../jobs/import-job.js";
import type { RowErrorRecord } from "../jobs/job-types.js";
import { requireEntityName, type TransferContext } from "../transfer-context.js";
import { allowed, clientGone, sendError } from "./http-util.js";
import { checkImport } from "../access-policy.js";
import type { Caller } from "../caller.js";
import { jsonObjectParam } from "./export-route.js";
import { Code, ConnectError } from "@connectrpc/connect";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importLimits } from "../config/transfer-config.js";

interface SpooledFile {
  path: string;
  remove(): Promise<void>;
}

/**
 * Writes an upload's file part to a private temporary file, keeping at most
 * `maxBytes` (one byte past the size limit is enough for the job to refuse
 * the file with its usual error); the rest is discarded as it arrives.
 */
async function spoolFile(stream: Readable, maxBytes: number): Promise<SpooledFile> {
  const dir = await mkdtemp(join(tmpdir(), "dx-upload-"));
  const remove = () => rm(dir, { recursive: true, force: true });
  const path = join(dir, "file");
  try {
    const out = createWriteStream(path, { mode: 0o600 });
    let kept = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (kept >= maxBytes) continue;
      const part = chunk.subarray(0, maxBytes - kept);
      kept += part.byteLength;
      if (!out.write(part)) await new Promise<void>((r) => out.once("drain", () => r()));
    }
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    return { path, remove };
  } catch (error) {
    await remove();
    throw new InvalidTransferRequestError(`the upload ended early: ${(error as Error).message}`, "file");
  }
}

/** Row errors in the JSON answer; all of them are at /jobs/{id}/failed-rows. */
export const RESPONSE_ERRORS = 1000;

const transformSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("trim") }),
  z.object({ kind: z.literal("lowercase") }),
  z.object({ kind: z.literal("date"), format: z.string().min(1) }),
  z.object({ kind: z.literal("default"), value: z.string() }),
  z.object({ kind: z.literal("template"), value: z.string().min(1) }),
]);
const mappingSchema = z.array(
  z.strictObject({ source: z.string().optional(), field: z.string().min(1).optional(), ignore: z.boolean().optional(), transforms: z.array(transformSchema).optional() }),
);
const modeSchema = z.enum(["insert", "upsert", "merge", "skip-existing"]);

function flag(fields: Record<string, string>, name: string): boolean | undefined {
  const value = fields[name]?.trim().toLowerCase();
  if (value === undefined || value === "") return undefined;
  if (["true", "1", "yes", "on"].includes(value)) return true;
  if (["false", "0", "no", "off"].includes(value)) return false;
  throw new InvalidTransferRequestError(`${name} must be true or false, not ${JSON.stringify(fields[name])}`, name);
}

/** The import request the form fields describe. */
export function importRequestFromFields(fields: Record<string, string>, fileName: string): ImportJobRequest {
  const entity = requireEntityName(fields.entity);
  if (!fields.format) throw new InvalidTransferRequestError("format is required (a field before the file)", "format");
  const mode = modeSchema.safeParse((fields.mode ?? "insert").trim().toLowerCase() || "insert");
  if (!mode.success) throw new InvalidTransferRequestError(`mode must be one of insert, upsert, merge, skip-existing, not ${JSON.stringify(fields.mode)}`, "mode");
  let mapping: ImportJobRequest["mapping"];
  if (fields.mapping?.trim()) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fields.mapping);
    } catch (error) {
      throw new InvalidTransferRequestError(`mapping must be a JSON array: ${(error as Error).message}`, "mapping");
    }
    const checked = mappingSchema.safeParse(parsed);
    if (!checked.success) throw new InvalidTransferRequestError(`mapping is invalid: ${checked.error.issues.map((i) => `mapping.${i.path.join(".")}: ${i.message}`).join("; ")}`, "mapping");
    mapping = checked.data;
  }
  return {
    entity,
    format: fields.format,
    formatOptions: jsonObjectParam(fields.options ?? null, "options"),
    mode: mode.data,
    strict: flag(fields, "strict"),
    dryRun: flag(fields, "dry_run") ?? false,
    mapping,
    fileName,
  };
}

interface UploadResult {
  jobId?: string;
  summary?: ImportJobSummary;
  errors: RowErrorRecord[];
  errorCount: number;
  error?: unknown;
}

/** The file part as bytes; a cut-off upload is the client's problem, said so. */
async function* fileBytes(stream: Readable): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of stream) yield chunk as Uint8Array;
  } catch (error) {
    throw new InvalidTransferRequestError(`the upload ended early: ${(error as Error).message}`, "file");
  }
}

async function runUpload(ctx: TransferContext, fields: Record<string, string>, stream: Readable, fileName: string, caller: Caller, signal: AbortSignal): Promise<UploadResult> {
  const result: UploadResult = { errors: [], errorCount: 0 };
  try {
    const request = importRequestFromFields(fields, fileName);
    const denied = caller.principal ? checkImport(caller.principal, request.entity.name, request.dryRun) : undefined;
    if (denied) throw new ConnectError(`permission denied: ${denied}`, Code.PermissionDenied);
    for await (const event of importJob(ctx, request, fileBytes(stream), caller, signal)) {
      if (event.kind === "started") result.jobId = event.jobId;
      else if (event.kind === "row_error") {
        result.errorCount++;
        if (result.errors.length < RESPONSE_ERRORS) {
          const { kind: _kind, ...error } = event;
          result.errors.push(error);
        }
      } else if (event.kind === "summary") result.summary = event;
    }
  } catch (error) {
    result.error = error;
  } finally {
    // Whatever the job did not read is discarded, so busboy (and the request) can finish.
    stream.resume();
  }
  return result;
}

export async function handleImport(ctx: TransferContext, req: IncomingMessage, res: ServerResponse, caller: Caller): Promise<void> {
  if (caller.principal && !allowed(res, checkImport(caller.principal, undefined, true))) {
    req.resume();
    return;
  }
  if (!/^multipart\/form-data/i.test(req.headers["content-type"] ?? "")) {
    req.resume();
    sendError(res, new InvalidTransferRequestError("POST /import takes multipart/form-data with a file part named \"file\"", "content-type"));
    return;
  }
  const gone = clientGone(res);
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: req.headers, limits: { files: 1, fields: 50, parts: 60, fieldSize: 1 << 20 } });
  } catch (error) {
    req.resume();
    sendError(res, new InvalidTransferRequestError(`the multipart body cannot be read: ${(error as Error).message}`, "content-type"));
    return;
  }
  const fields: Record<string, string> = {};
  const done = new Promise<UploadResult>((resolve) => {
    let sawFile = false;
    let spooled: Promise<SpooledFile> | undefined;
    let fileName = "";
    parser.on("field", (name, value) => {
      if (!sawFile || spooled) fields[name] = value;
    });
    parser.on("file", (name, stream, info) => {
      if (name !== "file" || sawFile) {
        stream.resume();
        return;
      }
      sawFile = true;
      fileName = info.filename ?? "";
      if (fields.entity !== undefined && fields.format !== undefined) {
        void runUpload(ctx, fields, stream, fileName, caller, gone).then(resolve);
        return;
      }
      spooled = spoolFile(stream, importLimits(ctx.config).maxFileBytes + 1);
    });
    parser.on("close", () => {
      if (spooled) {
        void spooled.then(async (file) => {
          try {
            resolve(await runUpload(ctx, fields, createReadStream(file.path), fileName, caller, gone));
          } finally {
            await file.remove();
          }
        }, (error: unknown) => resolve({ errors: [], errorCount: 0, error }));
        return;
      }
      if (!sawFile) resolve({ errors: [], errorCount: 0, error: new InvalidTransferRequestError('the upload has no file part named "file"', "file") });
    });
    parser.on("error", (error: Error) => {
      if (!sawFile) resolve({ errors: [], errorCount: 0, error: new InvalidTransferRequestError(`the multipart body cannot be read: ${error.message}`, "file") });
    });
  });
  req.pipe(parser);
  const result = await done;
  if (gone.aborted) return;
  if (result.error !== undefined || !result.summary) {
    // Stop reading what is left of a refused upload, discard it, and close.
    req.unpipe(parser);
    req.resume();
    res.setHeader("connection", "close");
    sendError(res, result.error ?? new Error("the import ended without a summary"), { jobId: result.jobId, ...(result.summary ?? {}), errors: result.errors, errorCount: result.errorCount });
    return;
  }
  const { summary } = result;
  const body = { ...summary, errors: result.errors, errorCount: result.errorCount, errorsTruncated: result.errorCount > result.errors.length };
  if (summary.strictAborted) sendJson(res, 422, { code: codeName(Code.FailedPrecondition), message: summary.error ?? "strict import aborted", ...body });
  else sendJson(res, 200, body);
}
