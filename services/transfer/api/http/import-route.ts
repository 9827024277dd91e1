/**
 * `POST /import`: a multipart upload for curl and browsers (which cannot
 * stream request bodies over HTTP/2 RPCs).
 *
 * Form fields ({@link IMPORT_FIELDS}): `file` (the file), `format` (absent:
 * chosen from the file, see format-detection.ts), `entity`,
 * `mode` (insert|upsert|merge|skip-existing), `strict`, `dry_run`, `options`
 * (JSON object), `mapping` (JSON array of `{source, field, transforms}`), in
 * any order. The whole body is read first (multipart-upload.ts: the file is
 * spooled to a temporary file, never past the size limit), so that a field
 * after the file counts as much as one before it; any other field, a field
 * given twice and a second file are refused with 400 before anything is
 * written. With `bundle=true` the upload is a bundle (a workbook with a
 * sheet per entity, a ZIP of one file per entity), answered by
 * import-bundle-route.ts. The answer is JSON: the job's summary and its first 1000 row
 * errors. With the query parameter `async=true` (the only one it takes) the
 * answer is 202 with the job as soon as the job has started, and the import
 * goes on without the client, who follows it with WatchJob or GET /jobs/{id}
 * (a browser cannot stream an upload to the Import RPC).
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
import { InvalidTransferRequestError } from "../../errors.js";
import { importJob, type ImportJobRequest, type ImportJobSummary } from "../../jobs/import-job.js";
import { WRITE_MODES, type WriteMode } from "../../../domain/index.js";
import { requireEntityName, type TransferContext } from "../../transfer-context.js";
import { allowed, clientGone, requestIdHeader, sendError } from "./http-util.js";
import { checkImport } from "../../access-policy.js";
import type { Caller } from "../../caller.js";
import { jsonObjectParam, jsonParam, refuseEmpty, refuseEmptyValues, refuseUnknownNames, refuseUnknownQuery, type ParamSpec } from "./request-params.js";
import { Code, ConnectError } from "@connectrpc/connect";
import { importLimits } from "../../config/transfer-config.js";
import type { Upload } from "./multipart-upload.js";
import { answerUpload, collectUpload, readUploadOrRefuse, type UploadResult } from "./upload-answer.js";
import { handleBundleImport } from "./import-bundle-route.js";
import { checkDeclaredCharset } from "./declared-charset.js";

/** The form fields of `POST /import`, each at most once; `file` is the file part. */
export const IMPORT_FIELDS: readonly ParamSpec[] = ["file", "format", "entity", "mode", "strict", "dry_run", "options", "mapping", "max_errors", "max_error_ratio", "max_changes"].map((name) => ({
  name,
}));

/** The query parameters of `POST /import`; `bundle=true` makes it a bundle upload (import-bundle-route.ts). */
export const IMPORT_QUERY: readonly ParamSpec[] = [{ name: "async" }, { name: "bundle" }];

// Strict objects: a misspelt key (`"transform": [...]`) is refused, not dropped.
const transformSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("trim") }),
  z.strictObject({ kind: z.literal("lowercase") }),
  z.strictObject({ kind: z.literal("date"), format: z.string().min(1), timeZone: z.string().min(1).optional() }),
  z.strictObject({ kind: z.literal("default"), value: z.string() }),
  z.strictObject({ kind: z.literal("template"), value: z.string().min(1) }),
  z.strictObject({
    kind: z.literal("map"),
    values: z.record(z.string(), z.string()),
    unmapped: z.enum(["error", "keep", "default"]).optional(),
    default: z.string().optional(),
    caseInsensitive: z.boolean().optional(),
  }),
]);
const mappingSchema = z.array(z.strictObject({ source: z.string().optional(), field: z.string().min(1).optional(), ignore: z.boolean().optional(), transforms: z.array(transformSchema).optional() }));
const modeSchema = z.enum(WRITE_MODES);

/** A true/false field or parameter: undefined when absent; empty is refused, not taken as absent. */
export function flag(fields: Record<string, string>, name: string): boolean | undefined {
  const value = fields[name]?.trim().toLowerCase();
  if (value === undefined) return undefined;
  if (value === "") throw new InvalidTransferRequestError(`${name} is empty: give true or false`, name);
  if (["true", "1", "yes", "on"].includes(value)) return true;
  if (["false", "0", "no", "off"].includes(value)) return false;
  throw new InvalidTransferRequestError(`${name} must be true or false, not ${JSON.stringify(fields[name])}`, name);
}

/** A `mode` form field (`name`: `mode`, `users.mode`): insert when absent; refused when empty. */
export function modeField(text: string | undefined, name: string): WriteMode {
  refuseEmpty(text, name);
  const mode = modeSchema.safeParse((text ?? "insert").trim().toLowerCase());
  if (!mode.success) throw new InvalidTransferRequestError(`${name} must be one of insert, upsert, merge, skip-existing, not ${JSON.stringify(text)}`, name);
  return mode.data;
}

/** A `mapping` form field (`name`: `mapping`, `users.mapping`): a JSON array of `{source, field, transforms, ignore}`, checked strictly. */
export function mappingField(text: string | undefined, name: string): ImportJobRequest["mapping"] {
  if (text === undefined) return undefined;
  refuseEmpty(text, name);
  const checked = mappingSchema.safeParse(jsonParam(text, name, "a JSON array"));
  if (!checked.success) throw new InvalidTransferRequestError(`${name} is invalid: ${checked.error.issues.map((i) => `${name}.${i.path.join(".")}: ${i.message}`).join("; ")}`, name);
  return checked.data;
}

/** The import request the form fields describe; a field given empty is refused (request-params.ts), never taken as absent. */
export function importRequestFromFields(fields: Record<string, string>, fileName: string): ImportJobRequest {
  refuseEmptyValues(Object.entries(fields));
  const entity = requireEntityName(fields.entity);
  return {
    entity,
    format: fields.format ?? "",
    formatOptions: jsonObjectParam(fields.options ?? null, "options"),
    mode: modeField(fields.mode, "mode"),
    mapping: mappingField(fields.mapping, "mapping"),
    strict: flag(fields, "strict"),
    dryRun: flag(fields, "dry_run") ?? false,
    fileName,
    budget: {
      ...numberField(fields, "max_errors", "whole"),
      ...numberField(fields, "max_error_ratio", "fraction"),
      ...numberField(fields, "max_changes", "whole"),
    },
  };
}

const BUDGET_KEYS = { max_errors: "maxErrors", max_error_ratio: "maxErrorRatio", max_changes: "maxChanges" } as const;

/** A budget form field as its setting: absent, or a number the whole of the text is (`10`, `0.05`), else a 400 naming it. */
function numberField(fields: Record<string, string>, name: keyof typeof BUDGET_KEYS, kind: "whole" | "fraction"): Partial<Record<(typeof BUDGET_KEYS)[typeof name], number>> {
  const text = fields[name]?.trim();
  if (text === undefined) return {};
  refuseEmpty(text, name);
  const pattern = kind === "whole" ? /^\d{1,15}$/ : /^(0?\.\d+|0|1)$/;
  if (!pattern.test(text)) throw new InvalidTransferRequestError(`${name} must be ${kind === "whole" ? "a whole number" : "a fraction such as 0.05"}, not ${JSON.stringify(fields[name])}`, name);
  return { [BUDGET_KEYS[name]]: Number(text) };
}

/** Refuses a form field the route does not take, or one given twice (the file part included). */
function checkFieldName(name: string, seen: readonly string[]): void {
  refuseUnknownNames([...seen, name], IMPORT_FIELDS, "form field", "POST /import");
}

/**
 * Runs the import the upload describes. `onStarted` is told the job's id as
 * soon as it exists (an async upload answers then, and the rest runs on);
 * `signal` is the client's connection (an async upload's only until its 202
 * is written: see answerWhenStarted).
 */
function runUpload(
  ctx: TransferContext,
  upload: Upload,
  requestId: string | undefined,
  caller: Caller,
  signal: AbortSignal,
  onStarted?: (jobId: string) => void,
): Promise<UploadResult<ImportJobSummary>> {
  return collectUpload(() => {
    if (!upload.file) throw new InvalidTransferRequestError('the upload has no file part named "file"', "file");
    const request = { ...importRequestFromFields(Object.fromEntries(upload.fields), upload.file.fileName), fileSize: upload.file.bytes, requestId };
    checkDeclaredCharset(upload.file.contentType, request.formatOptions, "options");
    const denied = caller.principal ? checkImport(caller.principal, request.entity.name, request.dryRun) : undefined;
    if (denied) throw new ConnectError(`permission denied: ${denied}`, Code.PermissionDenied);
    return importJob(ctx, request, createReadStream(upload.file.path), caller, signal);
  }, onStarted);
}

/** `async=true` (or false), refusing any other query parameter before the body is read. */
function asyncParam(query: URLSearchParams): boolean {
  refuseUnknownQuery(query, IMPORT_QUERY, "POST /import");
  const value = query.get("async");
  if (value === null) return false;
  const flagValue = flag({ async: value }, "async");
  return flagValue ?? false;
}

export async function handleImport(ctx: TransferContext, req: IncomingMessage, res: ServerResponse, caller: Caller, query: URLSearchParams = new URLSearchParams()): Promise<void> {
  if (caller.principal && !allowed(res, checkImport(caller.principal, undefined, true))) {
    req.resume();
    return;
  }
  let detached: boolean;
  let requestId: string | undefined;
  try {
    requestId = requestIdHeader(req);
    if (query.has("bundle") && flag({ bundle: query.get("bundle") ?? "" }, "bundle")) {
      await handleBundleImport(ctx, req, res, caller, query, requestId);
      return;
    }
    detached = asyncParam(query);
  } catch (error) {
    req.resume();
    sendError(res, error);
    return;
  }
  if (!/^multipart\/form-data/i.test(req.headers["content-type"] ?? "")) {
    req.resume();
    sendError(res, new InvalidTransferRequestError('POST /import takes multipart/form-data with a file part named "file"', "content-type"));
    return;
  }
  const gone = clientGone(res);
  const upload = await readUploadOrRefuse(req, res, gone, {
    fileField: "file",
    checkName: checkFieldName,
    beforeFile: (fields) => {
      // Not even a dry run of the entity named so far: refused before the file is read.
      const entity = fields.get("entity");
      refuseEmpty(entity, "entity");
      const principal = caller.principal;
      const denied = principal && entity !== undefined ? checkImport(principal, requireEntityName(entity).name, true) : undefined;
      if (denied) throw new ConnectError(`permission denied: ${denied}`, Code.PermissionDenied);
    },
    maxFileBytes: importLimits(ctx.config).maxFileBytes + 1,
  });
  if (!upload) return;
  if (detached) {
    answerWhenStarted(ctx, res, gone, upload, requestId, caller);
    return;
  }
  await answerUpload(res, gone, upload, runUpload(ctx, upload, requestId, caller, gone), "import");
}

/**
 * An async upload: answers 202 with the job once it has started (or the
 * refusal, if it never starts), and lets the import run on to its end, the
 * spooled file removed then. Its outcome is the job's: WatchJob, GET /jobs/{id}.
 *
 * Until the 202 is out, the job is the connection's: a client gone before
 * the job started starts none (run-job.ts), and one gone while it started
 * cancels it before a row is read — the browser's Cancel, pressed as the last
 * bytes left, must not leave an import running that nobody is told of.
 * `gone` stops firing once the answer is written (http-util.ts), so from then
 * on the import outlives the connection. A client that lost a 202 already
 * written finds its job by its `X-Request-Id`.
 */
function answerWhenStarted(ctx: TransferContext, res: ServerResponse, gone: AbortSignal, upload: Upload, requestId: string | undefined, caller: Caller): void {
  let answered = false;
  const run = runUpload(ctx, upload, requestId, caller, gone, (jobId) => {
    answered = true;
    sendJson(res, 202, { jobId, state: "running", job: `/jobs/${jobId}`, watch: "dataexchange.transfer.v1.TransferService/WatchJob" });
  });
  void run
    .then((result) => {
      // Nobody to answer: said in the log, so that an operator asked about a cancelled upload finds it.
      if (!answered && gone.aborted) ctx.log("async import not started: the client went away before its job started; request id", requestId ?? "(none)");
      else if (!answered) sendError(res, result.error ?? new Error("the import ended before it started"), { errors: [], errorCount: 0 });
      else if (result.error !== undefined && !isCancellation(result.error)) ctx.log("async import job", result.jobId, "failed:", result.error);
    })
    .finally(() => upload.file?.remove());
}

function isCancellation(error: unknown): boolean {
  return error instanceof ConnectError && error.code === Code.Canceled;
}
