/**
 * `POST /import?bundle=true`: a bundle upload — one workbook with a sheet
 * per entity, or a ZIP of one file per entity (`users.csv`, `courses.csv`,
 * …) — imported in dependency order as one job (jobs/import-bundle-job.ts).
 *
 * Form fields: `file`, `strict`, `dry_run`, and per entity the single
 * import's settings prefixed with the entity and a dot, as a bundle
 * export's parameters are: `users.mode=upsert`,
 * `users.mapping=[{"source":"Login","field":"username"}]`,
 * `enrollments.options={"delimiter":";"}`. Anything else — an unprefixed
 * `mode` or `mapping` (which part would it be?), an `entity` or `format`
 * (the file's parts say both), a prefix that is no entity, the error budget
 * fields (not for bundles) — is refused with 400 before the file is read
 * further; settings for an entity the bundle does not hold, once the bundle
 * is opened, before anything is written.
 *
 * The answer is JSON: the summary (totals, and `parts` with each part's
 * counts), the first 1000 row errors (each with its `part`), 422 when a
 * strict bundle wrote nothing.
 */
import { checkBundleCharset } from "./declared-charset.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createReadStream } from "node:fs";
import { Code, ConnectError } from "@connectrpc/connect";
import { ENTITY_NAMES, type EntityName } from "../../../domain/index.js";
import { checkImport } from "../../access-policy.js";
import type { Caller } from "../../caller.js";
import { importLimits } from "../../config/transfer-config.js";
import { InvalidTransferRequestError } from "../../errors.js";
import { importBundleJob, type BundlePartImport, type ImportBundleJobRequest, type ImportBundleSummary } from "../../jobs/import-bundle-job.js";
import type { TransferContext } from "../../transfer-context.js";
import { clientGone, sendError } from "./http-util.js";
import { flag, mappingField, modeField } from "./import-route.js";
import type { Upload } from "./multipart-upload.js";
import { answerUpload, collectUpload, readUploadOrRefuse, type UploadResult } from "./upload-answer.js";
import { jsonObjectParam, refuseEmptyValues, refuseUnknownNames, refuseUnknownQuery, type ParamSpec } from "./request-params.js";

/** What each entity of a bundle takes, after its prefix. */
export const BUNDLE_PART_FIELDS = ["mode", "mapping", "options"] as const;

/** The form fields of a bundle upload: the file, the bundle-wide flags, and each entity's prefixed settings. */
export const IMPORT_BUNDLE_FIELDS: readonly ParamSpec[] = [
  { name: "file" },
  { name: "strict" },
  { name: "dry_run" },
  ...ENTITY_NAMES.flatMap((entity) => BUNDLE_PART_FIELDS.map((field) => ({ name: `${entity}.${field}` }))),
];

const WHERE = "POST /import?bundle=true (fields: file, strict, dry_run; per entity users.mode, users.mapping, users.options, …)";

/** The bundle import request the form fields describe. */
export function bundleRequestFromFields(fields: Record<string, string>, fileName: string): ImportBundleJobRequest {
  refuseUnknownNames(Object.keys(fields), IMPORT_BUNDLE_FIELDS, "form field", WHERE);
  refuseEmptyValues(Object.entries(fields));
  const parts: Partial<Record<EntityName, BundlePartImport>> = {};
  for (const entity of ENTITY_NAMES) {
    const given = BUNDLE_PART_FIELDS.filter((f) => fields[`${entity}.${f}`] !== undefined);
    if (given.length === 0) continue;
    parts[entity] = {
      mode: modeField(fields[`${entity}.mode`], `${entity}.mode`),
      mapping: mappingField(fields[`${entity}.mapping`], `${entity}.mapping`),
      formatOptions: jsonObjectParam(fields[`${entity}.options`] ?? null, `${entity}.options`),
    };
  }
  return { strict: flag(fields, "strict"), dryRun: flag(fields, "dry_run") ?? false, fileName, parts };
}

function runBundleUpload(ctx: TransferContext, upload: Upload, requestId: string | undefined, caller: Caller, signal: AbortSignal): Promise<UploadResult<ImportBundleSummary>> {
  return collectUpload(() => {
    if (!upload.file) throw new InvalidTransferRequestError('the upload has no file part named "file"', "file");
    checkBundleCharset(upload.file.contentType);
    const request = { ...bundleRequestFromFields(Object.fromEntries(upload.fields), upload.file.fileName), requestId };
    return importBundleJob(ctx, request, createReadStream(upload.file.path), caller, signal);
  });
}

/** Answers a bundle upload; `handleImport` hands it over once it has seen `bundle=true` (and checked the `X-Request-Id`). */
export async function handleBundleImport(ctx: TransferContext, req: IncomingMessage, res: ServerResponse, caller: Caller, query: URLSearchParams, requestId: string | undefined): Promise<void> {
  try {
    refuseUnknownQuery(query, [{ name: "bundle" }], "POST /import?bundle=true (an async bundle import is not offered)");
    if (!/^multipart\/form-data/i.test(req.headers["content-type"] ?? "")) {
      throw new InvalidTransferRequestError('POST /import?bundle=true takes multipart/form-data with a file part named "file"', "content-type");
    }
  } catch (error) {
    req.resume();
    sendError(res, error);
    return;
  }
  const gone = clientGone(res);
  const upload = await readUploadOrRefuse(req, res, gone, {
    fileField: "file",
    checkName: (name, seen) => refuseUnknownNames([...seen, name], IMPORT_BUNDLE_FIELDS, "form field", WHERE),
    beforeFile: (fields) => {
      // An entity's settings the caller may not even dry-run: refused before the file is read.
      const principal = caller.principal;
      if (!principal) return;
      for (const name of fields.keys()) {
        const entity = name.split(".")[0] as EntityName;
        if (!(ENTITY_NAMES as string[]).includes(entity)) continue;
        const denied = checkImport(principal, entity, true);
        if (denied) throw new ConnectError(`permission denied: ${denied}`, Code.PermissionDenied);
      }
    },
    maxFileBytes: importLimits(ctx.config).maxFileBytes + 1,
  });
  if (!upload) return;
  await answerUpload(res, gone, upload, runBundleUpload(ctx, upload, requestId, caller, gone), "bundle import");
}
