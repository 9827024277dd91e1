/**
 * `POST /import`: a multipart upload for curl and browsers (which cannot
 * stream request bodies over HTTP/2 RPCs).
 *
 * Form fields ({@link IMPORT_FIELDS}): `file` (the file), `format`, `entity`,
 * `mode` (insert|upsert|merge|skip-existing), `strict`, `dry_run`, `options`
 * (JSON object), `mapping` (JSON array of `{source, field, transforms}`), in
 * any order. The whole body is read first (multipart-upload.ts: the file is
 * spooled to a temporary file, never past the size limit), so that a field
 * after the file counts as much as one before it; any other field, a field
 * given twice and a second file are refused with 400 before anything is
 * written. The answer is JSON: the job's summary and its first 1000 row
 * errors.
 *
 * With authentication on, a caller who may import nothing is refused (403)
 * before the body is read, one who may not even dry-run the entity named
 * before the file as soon as the file starts, and the import the fields
 * describe (entity, dry run) before the job starts.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createReadStream } from "node:fs";
import { z } from "zod";
import { sendJson } from "../../../shared/rpc/index.js";
import { codeName } from "../../error-mapping.js";
import { InvalidTransferRequestError } from "../../errors.js";
import { importJob, type ImportJobRequest, type ImportJobSummary } from "../../jobs/import-job.js";
import { WRITE_MODES, type RowError } from "../../../domain/index.js";
import { requireEntityName, type TransferContext } from "../../transfer-context.js";
import { allowed, clientGone, sendError } from "./http-util.js";
import { checkImport } from "../../access-policy.js";
import type { Caller } from "../../caller.js";
import { jsonObjectParam, refuseUnknownNames, type ParamSpec } from "./request-params.js";
import { Code, ConnectError } from "@connectrpc/connect";
import { importLimits } from "../../config/transfer-config.js";
import { readUpload, type Upload } from "./multipart-upload.js";

/** The form fields of `POST /import`, each at most once; `file` is the file part. */
export const IMPORT_FIELDS: readonly ParamSpec[] = ["file", "format", "entity", "mode", "strict", "dry_run", "options", "mapping"].map((name) => ({ name }));

/** Row errors in the JSON answer; all of them are at /jobs/{id}/failed-rows. */
export const RESPONSE_ERRORS = 1000;

// Strict objects: a misspelt key (`"transform": [...]`) is refused, not dropped.
const transformSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("trim") }),
  z.strictObject({ kind: z.literal("lowercase") }),
  z.strictObject({ kind: z.literal("date"), format: z.string().min(1) }),
  z.strictObject({ kind: z.literal("default"), value: z.string() }),
  z.strictObject({ kind: z.literal("template"), value: z.string().min(1) }),
]);
const mappingSchema = z.array(z.strictObject({ source: z.string().optional(), field: z.string().min(1).optional(), ignore: z.boolean().optional(), transforms: z.array(transformSchema).optional() }));
const modeSchema = z.enum(WRITE_MODES);

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
  if (!fields.format) throw new InvalidTransferRequestError("format is required", "format");
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
  errors: RowError[];
  errorCount: number;
  error?: unknown;
}

/** Refuses a form field the route does not take, or one given twice (the file part included). */
function checkFieldName(name: string, seen: readonly string[]): void {
  refuseUnknownNames([...seen, name], IMPORT_FIELDS, "form field", "POST /import");
}

async function runUpload(ctx: TransferContext, upload: Upload, caller: Caller, signal: AbortSignal): Promise<UploadResult> {
  const result: UploadResult = { errors: [], errorCount: 0 };
  try {
    if (!upload.file) throw new InvalidTransferRequestError('the upload has no file part named "file"', "file");
    const request = importRequestFromFields(Object.fromEntries(upload.fields), upload.file.fileName);
    const denied = caller.principal ? checkImport(caller.principal, request.entity.name, request.dryRun) : undefined;
    if (denied) throw new ConnectError(`permission denied: ${denied}`, Code.PermissionDenied);
    for await (const event of importJob(ctx, request, createReadStream(upload.file.path), caller, signal)) {
      if (event.kind === "started") result.jobId = event.jobId;
      else if (event.kind === "row_error") {
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

export async function handleImport(ctx: TransferContext, req: IncomingMessage, res: ServerResponse, caller: Caller): Promise<void> {
  if (caller.principal && !allowed(res, checkImport(caller.principal, undefined, true))) {
    req.resume();
    return;
  }
  if (!/^multipart\/form-data/i.test(req.headers["content-type"] ?? "")) {
    req.resume();
    sendError(res, new InvalidTransferRequestError('POST /import takes multipart/form-data with a file part named "file"', "content-type"));
    return;
  }
  const gone = clientGone(res);
  let upload: Upload;
  try {
    upload = await readUpload(req, {
      fileField: "file",
      checkName: checkFieldName,
      beforeFile: (fields) => {
        // Not even a dry run of the entity named so far: refused before the file is read.
        const entity = fields.get("entity");
        const principal = caller.principal;
        const denied = principal && entity !== undefined ? checkImport(principal, requireEntityName(entity).name, true) : undefined;
        if (denied) throw new ConnectError(`permission denied: ${denied}`, Code.PermissionDenied);
      },
      maxFileBytes: importLimits(ctx.config).maxFileBytes + 1,
    });
  } catch (error) {
    if (gone.aborted) return;
    // Stop reading what is left of a refused upload, discard it, and close.
    req.resume();
    res.setHeader("connection", "close");
    sendError(res, error, { errors: [], errorCount: 0 });
    return;
  }
  let result: UploadResult;
  try {
    result = await runUpload(ctx, upload, caller, gone);
  } finally {
    await upload.file?.remove();
  }
  if (gone.aborted) return;
  if (result.error !== undefined || !result.summary) {
    sendError(res, result.error ?? new Error("the import ended without a summary"), { jobId: result.jobId, ...(result.summary ?? {}), errors: result.errors, errorCount: result.errorCount });
    return;
  }
  const { summary } = result;
  const body = { ...summary, errors: result.errors, errorCount: result.errorCount, errorsTruncated: result.errorCount > result.errors.length };
  if (summary.strictAborted) sendJson(res, 422, { code: codeName(Code.FailedPrecondition), message: summary.error ?? "strict import aborted", ...body });
  else sendJson(res, 200, body);
}
