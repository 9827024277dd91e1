/**
 * Jobs and row errors as wire messages, and the wire's enums as the job
 * store's plain values (and back).
 */
import { create, fromJsonString, type JsonObject } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { FilterSchema, WriteMode as WireWriteMode } from "../../../../gen/dataexchange/records/v1/records_pb.js";
import {
  ExportSource,
  JobKind,
  JobSchema,
  JobState,
  RowErrorSchema,
  WatchJobResponseSchema,
  type Job,
  type RowError as RowErrorMessage,
  type WatchJobResponse,
} from "../../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { entityEnum } from "../../../shared/records-wire/record-codec.js";
import { auditFilterOfJson } from "../../../shared/audit/index.js";
import type { RowError, WriteMode } from "../../../domain/index.js";
import { writeModeEnum, writeModeOf } from "../../../shared/records-wire/write-mode-codec.js";
import type { JobDocument, JobKind as PlainKind, JobState as PlainState } from "../../jobs/job-types.js";
import type { JobWatchEvent } from "../../jobs/job-watch.js";

export const JOB_STATES: Record<PlainState, JobState> = {
  running: JobState.RUNNING,
  succeeded: JobState.SUCCEEDED,
  failed: JobState.FAILED,
  cancelled: JobState.CANCELLED,
};

export const JOB_KINDS: Record<PlainKind, JobKind> = { import: JobKind.IMPORT, export: JobKind.EXPORT, revert: JobKind.REVERT };

export function plainState(value: JobState): PlainState | undefined {
  return (Object.entries(JOB_STATES) as [PlainState, JobState][]).find(([, v]) => v === value)?.[0];
}

export function plainKind(value: JobKind): PlainKind | undefined {
  return (Object.entries(JOB_KINDS) as [PlainKind, JobKind][]).find(([, v]) => v === value)?.[0];
}

/** Unspecified is insert: the mode that can never overwrite anything. */
export function plainMode(value: WireWriteMode): WriteMode | undefined {
  if (value === WireWriteMode.UNSPECIFIED) return "insert";
  return writeModeOf(value);
}

export function rowErrorMessage(error: RowError): RowErrorMessage {
  return create(RowErrorSchema, {
    row: BigInt(error.row),
    line: BigInt(error.line ?? 0),
    column: error.column ?? "",
    value: error.value ?? "",
    reason: error.reason,
    code: error.code,
    part: error.part ?? "",
  });
}

export function jobMessage(job: JobDocument): Job {
  return create(JobSchema, {
    id: job._id,
    kind: JOB_KINDS[job.kind],
    state: JOB_STATES[job.state],
    subject: job.subject,
    entity: job.entity ? entityEnum(job.entity) : undefined,
    source: job.kind !== "export" ? ExportSource.UNSPECIFIED : job.source === "audit" ? ExportSource.AUDIT_EVENTS : job.source === "deletions" ? ExportSource.DELETIONS : ExportSource.RECORDS,
    auditFilter: job.auditFilter ? auditFilterOfJson(job.auditFilter) : undefined,
    format: job.format,
    formatOptions: parseObject(job.formatOptions),
    filter: job.filter ? fromJsonString(FilterSchema, job.filter) : undefined,
    fields: job.fields ?? [],
    sort: job.sort ?? [],
    limit: BigInt(job.limit ?? 0),
    mode: job.mode ? writeModeEnum(job.mode) : WireWriteMode.UNSPECIFIED,
    strict: job.strict ?? false,
    dryRun: job.dryRun ?? false,
    fileName: job.fileName ?? "",
    fileSize: typeof job.fileSize === "number" ? BigInt(job.fileSize) : undefined,
    requestId: job.requestId ?? "",
    formatChosenBy: job.formatChosenBy ?? "",
    maxErrors: job.budget?.maxErrors !== undefined ? BigInt(job.budget.maxErrors) : undefined,
    maxErrorRatio: job.budget?.maxErrorRatio,
    maxChanges: job.budget?.maxChanges !== undefined ? BigInt(job.budget.maxChanges) : undefined,
    changedSince: job.changedSince ? timestampFromDate(job.changedSince) : undefined,
    highWaterMark: job.highWaterMark ? timestampFromDate(job.highWaterMark) : undefined,
    revertibleUntil: job.revertibleUntil ? timestampFromDate(job.revertibleUntil) : undefined,
    revertedBy: job.revertedBy ?? "",
    revertOf: job.revertOf ?? "",
    createdAt: timestampFromDate(job.createdAt),
    startedAt: job.startedAt ? timestampFromDate(job.startedAt) : undefined,
    finishedAt: job.finishedAt ? timestampFromDate(job.finishedAt) : undefined,
    duration: job.durationMs !== undefined ? durationFromMs(job.durationMs) : undefined,
    counts: Object.fromEntries(Object.entries(job.counts).map(([k, v]) => [k, BigInt(v)])),
    bytes: BigInt(job.bytes),
    sha256: job.sha256 ?? "",
    errors: job.errors.map(rowErrorMessage),
    errorCount: BigInt(job.errorCount),
    error: job.error ?? "",
    errorCode: job.errorCode ?? "",
    strictAborted: job.strictAborted ?? false,
    parts: (job.parts ?? []).map((p) => ({
      entity: entityEnum(p.entity),
      name: p.name,
      records: BigInt(p.exported),
      ...(p.counts ? { counts: Object.fromEntries(Object.entries(p.counts).map(([k, v]) => [k, BigInt(v)])) } : {}),
    })),
  });
}

/** A job as JSON for the HTTP routes: the stored shape, with `id` instead of `_id`. */
export function jobJson(job: JobDocument): Record<string, unknown> {
  const { _id, formatOptions, filter, auditFilter, labels, ...rest } = job;
  return {
    id: _id,
    ...rest,
    formatOptions: parseObject(formatOptions),
    ...(filter ? { filter: parseObject(filter) } : {}),
    ...(auditFilter ? { auditFilter: parseObject(auditFilter) } : {}),
    ...(labels ? { labels: parseObject(labels) } : {}),
  };
}

function parseObject(text: string): JsonObject {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};
  } catch {
    return {};
  }
}

/** A WatchJob event as its wire message. */
export function watchMessage(event: JobWatchEvent): WatchJobResponse {
  switch (event.kind) {
    case "job":
      return create(WatchJobResponseSchema, { event: { case: "job", value: jobMessage(event.job) } });
    case "progress": {
      const { counts, bytes, errorCount } = event.progress;
      return create(WatchJobResponseSchema, {
        event: { case: "progress", value: { counts: Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, BigInt(v)])), bytes: BigInt(bytes), errorCount: BigInt(errorCount) } },
      });
    }
    case "row_error":
      return create(WatchJobResponseSchema, { event: { case: "rowError", value: rowErrorMessage(event.error) } });
    case "ended":
      return create(WatchJobResponseSchema, { event: { case: "ended", value: jobMessage(event.job) } });
  }
}
