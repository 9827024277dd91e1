/**
 * One export as a job: records stream from the records service
 * (StreamRecords, cancelled with the job), through the core's export pipeline
 * and the format plugin, out as ~64 KiB chunks with progress between them.
 * The RPC and the plain HTTP route both consume these events, so both record
 * the same job the same way.
 *
 * The job ends `succeeded` before the summary is handed out (so a GetJob right
 * after the last byte sees it), `failed` with the mapped error, or `cancelled`
 * when CancelJob fired, the caller's signal fired, or the consumer stopped
 * pulling (a client that went away): the `finally` of this generator runs in
 * every one of those cases, and the records call is aborted with it, which
 * closes the database cursor.
 *
 * Records are read for the caller: the records service sees the caller as
 * the user the transfer service acts for, and returns only what that user may
 * read. A caller without `pii` who selects no fields gets the columns that
 * are not personal (instead of empty email and name columns); one who names a
 * personal field is refused (PERMISSION_DENIED). With source `audit`, the
 * transfer service's own audit trail is exported instead (audit-export.ts);
 * with source `deletions`, the keys of an entity's deleted records. Records
 * and deletions exports hand out a high-water mark, and take one back as
 * `changedSince` (records/incremental-export.ts).
 * Every export ends with an audit event, unless export logging is off.
 */
import { readAhead } from "../../shared/streams/read-ahead.js";
import { createHash } from "node:crypto";
import { toJsonString, type JsonObject, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Column, FormatPlugin } from "../../../formats/_sdk/index.js";
import { FilterSchema, type Filter, type StreamRecordsRequestSchema } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { entityEnum } from "../../shared/records-wire/record-codec.js";
import type { EntityName, EntitySpec } from "../../domain/index.js";
import { auditQueryJson, type AuditQuery } from "../../shared/audit/index.js";
import { exportFieldsFor, seesPersonalData } from "../access-policy.js";
import { auditEventBatches } from "../audit/audit-export.js";
import type { Caller } from "../caller.js";
import { recordsFor } from "../records/records-for-caller.js";
import { recordBatches } from "../records/record-batches.js";
import { exportColumns, runExport, type ExportSettings } from "../core/export-pipeline.js";
import { checkLabels } from "../core/export-columns.js";
import { parsePluginOptions } from "../core/plugin-options.js";
import { downloadMimeType } from "./download-mime-type.js";
import type { EndOptions, JobRun } from "./running-job.js";
import { runJob, type JobSteps } from "./run-job.js";
import { changedSinceFilter, deletionRecord, highWaterMarkAt } from "../records/incremental-export.js";
import { InvalidTransferRequestError } from "../errors.js";
import type { TransferContext } from "../transfer-context.js";
import { requireFormat } from "../transfer-context.js";

export type ExportEvent =
  | { kind: "header"; jobId: string; fileName: string; mimeType: string; columns: Column[]; highWaterMark?: Date; parts?: ExportPartHeader[] }
  | { kind: "chunk"; bytes: Uint8Array }
  | { kind: "progress"; records: number; bytes: number; estimatedTotal: number }
  | { kind: "summary"; jobId: string; records: number; bytes: number; sha256: string; durationMs: number; highWaterMark?: Date; parts?: ExportPartSummary[] };

/** A bundle export's part, as its header announces it (export-bundle-job.ts): the entity, its file or sheet, its columns. */
export interface ExportPartHeader {
  entity: EntityName;
  name: string;
  columns: Column[];
}

/** A bundle export's part at the end: its records in the file. */
export interface ExportPartSummary {
  entity: EntityName;
  name: string;
  records: number;
}

export const EXPORT_CHUNK_BYTES = 64 * 1024;
/**
 * Records per StreamRecords message. Every stage of an export (the records
 * service's cursor and read-ahead, the message on the wire, this service's
 * read-ahead, the plugin's batch) holds one batch, so a running export holds
 * about eight of them across both services, and V8 sizes each heap at ~1.5–2×
 * what is live: with 20 exports at once, 500-record messages took both
 * services past 250 MB of RSS (bench section `concurrency`). 250 halves that
 * at no measurable cost in throughput (batches of 500 vs 1000 measured the
 * same, too: bench/README.md).
 */
export const READ_BATCH = 250;
/** StreamRecords messages read ahead of the plugin (bounded: this many batches per export). */
export const RECORDS_READ_AHEAD = 2;

/**
 * What an export reads: records of an entity (filtered and sorted by the
 * records service), the audit trail, or the keys of an entity's deleted
 * records (`spec` is then the deletions table, `entity` the entity).
 */
export type ExportTarget =
  | { source: "records"; spec: EntitySpec; filter?: Filter; sort: { field: string; descending: boolean }[] }
  | { source: "audit"; spec: EntitySpec; query: AuditQuery }
  | { source: "deletions"; spec: EntitySpec; entity: EntitySpec };

/** The records service's entity an export reads, if any (none for the audit trail). */
export function exportEntityOf(target: ExportTarget): EntitySpec | undefined {
  return target.source === "records" ? target.spec : target.source === "deletions" ? target.entity : undefined;
}

/**
 * One export, as the adapters hand it over: the RPC's ExportRequest
 * (api/rpc/request-codec.ts) and a download URL's query
 * (api/http/export-query.ts) alike, checked for shape already.
 */
export interface ExportJobRequest {
  target: ExportTarget;
  format: string;
  formatOptions: JsonObject;
  /** Selection and order of fields; empty: every readable field (less personal ones without `pii`). */
  fields: string[];
  /** Column labels by field key. */
  labels: Record<string, string>;
  /** Most records to export; 0: all. */
  limit: number;
  /** Count the matching records for the progress events (a second scan on FerretDB: only when asked). */
  estimateTotal: boolean;
  /** Records changed (deletions made) at or after this time only: the previous export's high-water mark. */
  changedSince?: Date;
}

/**
 * The fields to export for a caller (access-policy.ts decides personal data).
 * A deletion is named by its key, so a deletions export takes every column
 * as asked for: without `pii`, users' deletions (keyed by email) are refused
 * rather than exported as times of nobody in particular.
 */
export function fieldsFor(target: ExportTarget, requested: readonly string[], caller: Caller): string[] | undefined {
  const { spec } = target;
  const asked = target.source === "deletions" && requested.length === 0 ? spec.fields.map((f) => f.key) : requested;
  const { fields, denied } = exportFieldsFor(spec, asked, caller.principal);
  if (denied) throw new ConnectError(`permission denied: ${denied}`, Code.PermissionDenied);
  return fields;
}

/**
 * One export job, traced as one span (`transfer.export`) under the caller's
 * RPC span: the records calls and the plugin's write span are its children.
 * Every log line of the job carries its `job_id` (one job scope for all steps).
 */
export function exportJob(ctx: TransferContext, request: ExportJobRequest, caller: Caller, callerSignal?: AbortSignal): AsyncGenerator<ExportEvent> {
  return runJob(ctx, caller, callerSignal, { span: "transfer.export", attributes: { "dx.format": request.format, "dx.subject": caller.subject } }, () => {
    const plan = planExport(ctx, request);
    const { target, plugin, formatOptions } = plan;
    return {
      record: {
        kind: "export",
        subject: caller.subject,
        entity: exportEntityOf(target)?.name,
        source: target.source,
        format: plugin.name,
        formatOptions: JSON.stringify(formatOptions),
        filter: target.source === "records" && target.filter ? toJsonString(FilterSchema, target.filter) : undefined,
        auditFilter: target.source === "audit" ? auditQueryJson(target.query) : undefined,
        fields: request.fields.length > 0 ? [...request.fields] : undefined,
        sort: target.source === "records" && target.sort.length > 0 ? target.sort.map((s) => ({ field: s.field, descending: s.descending })) : undefined,
        changedSince: request.changedSince,
        highWaterMark: plan.highWaterMark,
        limit: request.limit > 0 ? request.limit : undefined,
        labels: Object.keys(request.labels).length > 0 ? JSON.stringify(request.labels) : undefined,
      },
      start: (run) => exportSteps(ctx, run, plan, request, caller),
    };
  });
}

/** The plugin, options, columns and file of an export, decided before anything is read. */
interface ExportPlan {
  target: ExportTarget;
  plugin: FormatPlugin;
  formatOptions: JsonObject;
  /** Records and deletions: the `changedSince` of the next incremental export (taken before anything is read). */
  highWaterMark?: Date;
}

function planExport(ctx: TransferContext, request: ExportJobRequest): ExportPlan {
  const { target } = request;
  if (request.changedSince && target.source === "audit")
    throw new InvalidTransferRequestError("changed_since applies to exports of records and of deletions, not of the audit trail (filter it by time with from)", "changed_since");
  const highWaterMark = target.source === "audit" ? undefined : highWaterMarkAt(new Date(), ctx.config.exportChangeOverlapSeconds);
  return { target, plugin: requireFormat(ctx, request.format, "write"), formatOptions: request.formatOptions, highWaterMark };
}

/** The core's settings for an export the caller may run (fields narrowed or refused for personal data). */
function settingsOf(ctx: TransferContext, plan: ExportPlan, request: ExportJobRequest, caller: Caller): ExportSettings {
  const { target, plugin, formatOptions } = plan;
  const settings: ExportSettings = {
    plugin,
    pluginOptions: formatOptions,
    entity: target.spec,
    fields: target.source !== "audit" ? fieldsFor(target, request.fields, caller) : request.fields.length > 0 ? [...request.fields] : undefined,
    labels: Object.keys(request.labels).length > 0 ? { ...request.labels } : undefined,
    nestedDelimiter: ctx.config.nestedDelimiter,
  };
  checkLabels(settings);
  return settings;
}

/** What a download is called: `users-20240131-235959.csv`. */
function downloadName(plan: ExportPlan, at: Date): string {
  return fileNameOf(plan.target.spec.name, plan.plugin.extensions[0] ?? plan.plugin.name, at);
}

/**
 * What an export would answer in its header — file name, MIME type, columns —
 * checked as the export checks it (source, format and its options, fields,
 * personal data), without creating a job or reading a record: for `HEAD
 * /export/{format}`, which must not start a download nobody reads.
 */
export function describeExport(ctx: TransferContext, request: ExportJobRequest, caller: Caller): { fileName: string; mimeType: string; columns: Column[] } {
  const plan = planExport(ctx, request);
  const settings = settingsOf(ctx, plan, request, caller);
  return { fileName: downloadName(plan, new Date()), mimeType: mimeTypeOf(plan), columns: exportColumns(settings) };
}

/** The file's media type, with the charset its options write it in: the same for an HTTP download's headers and an RPC's header. */
function mimeTypeOf(plan: ExportPlan): string {
  return downloadMimeType(plan.plugin.mimeType, parsePluginOptions(plan.plugin, plan.formatOptions));
}

/** The export's steps once its record exists: records (or the audit trail) through the pipeline, out as chunks. */
function exportSteps(ctx: TransferContext, run: JobRun, plan: ExportPlan, request: ExportJobRequest, caller: Caller): JobSteps<ExportEvent> {
  const { target } = plan;
  const spec = target.spec;
  const job = run.job;
  // Aborted on the way out, whichever way that is: a records stream that
  // nobody reads any more is closed (a suspended read-ahead alone would keep
  // the call, and the records service's cursor, open).
  const finished = new AbortController();
  const signal = AbortSignal.any([run.signal, finished.signal]);
  const records = recordsFor(ctx.records, caller, job._id);
  const hash = createHash("sha256");
  let bytes = 0;
  let exported = 0;
  /** What the job has done so far, in every ending. */
  const sofar = (): EndOptions => ({ base: { bytes, sha256: bytes > 0 ? hash.copy().digest("hex") : undefined, counts: { exported } } });
  run.follow(() => ({ counts: { exported }, bytes }));
  async function* events(): AsyncGenerator<ExportEvent> {
    const settings: ExportSettings = {
      ...settingsOf(ctx, plan, request, caller),
      // What the file is of, for formats that say so (an HTML caption).
      source: { entity: plan.target.spec.name, filter: job.filter ?? job.auditFilter },
      signal,
      onProgress: (p) => (exported = p.records),
    };
    const fields = settings.fields;
    const columns = exportColumns(settings);
    let estimatedTotal = 0;
    // Only when asked: on FerretDB the count is a second full scan running beside the export's own.
    if (target.source === "records" && request.estimateTotal) {
      void records
        .countRecords({ entity: entityEnum(target.spec.name), filter: target.filter }, { signal })
        .then((r) => {
          const count = Number(r.count);
          estimatedTotal = request.limit > 0 ? Math.min(count, request.limit) : count;
        })
        .catch(() => undefined);
    }
    yield { kind: "header", jobId: job._id, fileName: downloadName(plan, job.createdAt), mimeType: mimeTypeOf(plan), columns, highWaterMark: plan.highWaterMark };

    const since = request.changedSince;
    const batches =
      target.source === "audit"
        ? limited(auditEventBatches(ctx.audit, target.query, seesPersonalData(caller.principal), READ_BATCH), request.limit)
        : target.source === "deletions"
          ? (async function* () {
              const deletions = records.streamDeletions(
                { entity: entityEnum(target.entity.name), since: since ? timestampFromDate(since) : undefined, limit: BigInt(request.limit), batchSize: READ_BATCH },
                { signal },
              );
              for await (const message of readAhead(deletions, RECORDS_READ_AHEAD)) yield message.deletions.map((d) => deletionRecord(target.entity, d));
            })()
          : (async function* () {
              const streamRequest: MessageInitShape<typeof StreamRecordsRequestSchema> = {
                entity: entityEnum(spec.name),
                filter: since ? changedSinceFilter(spec, target.filter, since) : target.filter,
                // Only top-level keys go to the records service; nested paths are the core's.
                fields: [...new Set((fields ?? []).map((f) => f.split(".")[0]!))],
                sort: target.sort,
                limit: BigInt(request.limit),
                batchSize: READ_BATCH,
              };
              yield* recordBatches(records, spec, streamRequest, RECORDS_READ_AHEAD, signal);
            })();
    let reported = -1;
    for await (const chunk of rechunk(runExport(batches, settings), EXPORT_CHUNK_BYTES)) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      yield { kind: "chunk", bytes: chunk };
      if (exported !== reported) {
        reported = exported;
        run.progress();
        yield { kind: "progress", records: exported, bytes, estimatedTotal };
      }
    }
    // Every record is out: the total is what was exported, whether or not the count (a second scan beside the export) has come back.
    if (target.source === "records" && request.estimateTotal && estimatedTotal !== exported) {
      estimatedTotal = exported;
      yield { kind: "progress", records: exported, bytes, estimatedTotal };
    }
    const sha256 = hash.copy().digest("hex");
    // The record holds the end before the client is told it.
    await run.end({ state: "succeeded" }, sofar());
    yield { kind: "summary", jobId: job._id, records: exported, bytes, sha256, durationMs: Date.now() - job.createdAt.getTime(), highWaterMark: plan.highWaterMark };
  }
  return { events: events(), sofar, close: () => finished.abort(new Error("the export ended")) };
}

/** At most `limit` records (0: all) of a batch stream. */
async function* limited(batches: AsyncIterable<Record<string, unknown>[]>, limit: number): AsyncGenerator<Record<string, unknown>[]> {
  let left = limit > 0 ? limit : Infinity;
  for await (const batch of batches) {
    if (left <= 0) return;
    const part = batch.length > left ? batch.slice(0, left) : batch;
    left -= part.length;
    yield part;
  }
}

/** `users-20240131-235959.csv`: what the download is saved as. */
export function fileNameOf(entity: string, extension: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${entity}-${stamp}.${extension}`;
}

/** Regroups a byte stream into chunks of `size` bytes (the last one shorter), copying as it goes. */
export async function* rechunk(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let parts: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of source) {
    let offset = 0;
    while (offset < chunk.byteLength) {
      const take = Math.min(size - length, chunk.byteLength - offset);
      parts.push(chunk.subarray(offset, offset + take));
      length += take;
      offset += take;
      if (length === size) {
        yield Buffer.concat(parts, length);
        parts = [];
        length = 0;
      }
    }
  }
  if (length > 0) yield Buffer.concat(parts, length);
}
