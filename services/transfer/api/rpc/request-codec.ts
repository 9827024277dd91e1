/**
 * Turns the wire requests into what the jobs take: an ExportRequest into an
 * export job request, the import header into an import job request (mappings
 * and transforms included), ListJobs into a job query. Every refusal names the request field, for INVALID_ARGUMENT details.
 */
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { finerThanMillisecondsReason, millisecondDate } from "../../../shared/rpc/millisecond-timestamps.js";
import { Entity } from "../../../../gen/dataexchange/records/v1/records_pb.js";
import {
  ExportSource,
  JobKind,
  JobState,
  Transform_Map_Unmapped,
  type ExportBundleRequest,
  type ExportRequest,
  type FieldMapping as WireMapping,
  type ImportHeader,
  type ListJobsRequest,
} from "../../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { auditQueryOf } from "../../../shared/audit/index.js";
import { exportSourceOf } from "../../access-policy.js";
import { AUDIT_EVENTS_SPEC } from "../../audit/audit-export.js";
import type { ExportJobRequest, ExportTarget } from "../../jobs/export-job.js";
import type { ExportBundleJobRequest } from "../../jobs/export-bundle-job.js";
import { checkChangedSince, deletionsSpecOf } from "../../records/incremental-export.js";
import { entityName } from "../../../shared/records-wire/record-codec.js";
import type { FieldMapping, Transform } from "../../core/import-pipeline.js";
import { InvalidTransferRequestError } from "../../errors.js";
import type { ImportJobRequest } from "../../jobs/import-job.js";
import type { JobQuery } from "../../jobs/job-store.js";
import { requestIdOf } from "../../jobs/request-id.js";
import { requireEntity } from "../../transfer-context.js";
import { plainKind, plainMode, plainState } from "./job-codec.js";

export function exportRequestOf(request: ExportRequest): ExportJobRequest {
  // A larger limit could not be passed on exactly (the records service counts in JavaScript numbers), and limits nothing.
  if (request.limit > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidTransferRequestError(`limit must be at most ${Number.MAX_SAFE_INTEGER} (0: no limit), not ${request.limit}`, "limit");
  return {
    target: exportTargetOf(request),
    format: request.format,
    formatOptions: request.formatOptions ?? {},
    fields: [...request.fields],
    labels: { ...request.labels },
    limit: Number(request.limit),
    estimateTotal: request.estimateTotal,
    changedSince: request.changedSince ? checkChangedSince(boundDate(request.changedSince, "changed_since")) : undefined,
  };
}

/** A bundle's parts: each entity named, its limit countable (the rest is checked by the job, as for single exports). */
export function exportBundleRequestOf(request: ExportBundleRequest): ExportBundleJobRequest {
  return {
    format: request.format,
    formatOptions: request.formatOptions ?? {},
    parts: request.parts.map((part, i) => {
      if (part.limit > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidTransferRequestError(`parts[${i}].limit must be at most ${Number.MAX_SAFE_INTEGER} (0: no limit)`, `parts[${i}].limit`);
      return {
        entity: requireEntity(part.entity, `parts[${i}].entity`),
        filter: part.filter,
        sort: part.sort.map((s) => ({ field: s.field, descending: s.descending })),
        fields: [...part.fields],
        labels: { ...part.labels },
        limit: Number(part.limit),
      };
    }),
  };
}

function exportTargetOf(request: ExportRequest): ExportTarget {
  if (!(request.source in ExportSource))
    throw new InvalidTransferRequestError(
      `source ${request.source} is not an export source: one of EXPORT_SOURCE_RECORDS (the default), EXPORT_SOURCE_AUDIT_EVENTS, EXPORT_SOURCE_DELETIONS`,
      "source",
    );
  if (exportSourceOf(request) === "deletions") {
    const misplaced = request.auditFilter ? "audit_filter" : request.filter ? "filter" : request.sort.length > 0 ? "sort" : request.estimateTotal ? "estimate_total" : undefined;
    if (misplaced) throw new InvalidTransferRequestError(`${misplaced} does not apply to an export of deletions (they come oldest first; narrow them with changed_since)`, misplaced);
    const entity = requireEntity(request.entity, "entity");
    if (entity.appendOnly) throw new InvalidTransferRequestError(`${entity.name} is append-only: nothing of it is ever deleted`, "entity");
    return { source: "deletions", spec: deletionsSpecOf(entity), entity };
  }
  if (exportSourceOf(request) === "records") {
    if (request.auditFilter) throw new InvalidTransferRequestError("audit_filter applies only to exports of the audit trail (source EXPORT_SOURCE_AUDIT_EVENTS)", "audit_filter");
    return { source: "records", spec: requireEntity(request.entity, "entity"), filter: request.filter, sort: request.sort.map((s) => ({ field: s.field, descending: s.descending })) };
  }
  // The trail is exported in time order with its own filter; records' settings do not apply.
  const misplaced = request.entity ? "entity" : request.filter ? "filter" : request.sort.length > 0 ? "sort" : undefined;
  if (misplaced) throw new InvalidTransferRequestError(`${misplaced} does not apply to an export of the audit trail (use audit_filter; events come in time order)`, misplaced);
  return { source: "audit", spec: AUDIT_EVENTS_SPEC, query: auditQueryOf(request.auditFilter, "audit_filter") };
}

export function importRequestOf(header: ImportHeader): ImportJobRequest {
  const entity = requireEntity(header.entity, "header.entity");
  const mode = plainMode(header.mode);
  if (!mode) throw new InvalidTransferRequestError(`header.mode ${header.mode} is not a write mode`, "header.mode");
  return {
    entity,
    format: header.format,
    formatOptions: header.formatOptions ?? {},
    mode,
    strict: header.strict,
    dryRun: header.dryRun,
    mapping: header.mappings.length > 0 ? header.mappings.map(mappingOf) : undefined,
    fileName: header.fileName,
    budget: {
      ...(header.maxErrors !== undefined ? { maxErrors: safeNumber(header.maxErrors, "header.max_errors") } : {}),
      ...(header.maxErrorRatio !== undefined ? { maxErrorRatio: header.maxErrorRatio } : {}),
      ...(header.maxChanges !== undefined ? { maxChanges: safeNumber(header.maxChanges, "header.max_changes") } : {}),
    },
  };
}

/** A uint64 the service can count to, or INVALID_ARGUMENT naming it. */
function safeNumber(value: bigint, setting: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidTransferRequestError(`${setting} must be at most ${Number.MAX_SAFE_INTEGER}`, setting);
  return Number(value);
}

const UNMAPPED: Partial<Record<Transform_Map_Unmapped, "error" | "keep" | "default">> = {
  [Transform_Map_Unmapped.UNSPECIFIED]: "error",
  [Transform_Map_Unmapped.ERROR]: "error",
  [Transform_Map_Unmapped.KEEP]: "keep",
  [Transform_Map_Unmapped.DEFAULT]: "default",
};

function invalidUnmapped(value: number, setting: string): never {
  throw new InvalidTransferRequestError(`${setting} ${value} is not one of error, keep, default`, setting);
}

export function mappingOf(mapping: WireMapping, index: number): FieldMapping {
  const transforms: Transform[] = mapping.transforms.map((t, j) => {
    const kind = t.kind;
    switch (kind.case) {
      case "trim":
        return { kind: "trim" };
      case "lowercase":
        return { kind: "lowercase" };
      case "date":
        return { kind: "date", format: kind.value.format, ...(kind.value.timeZone ? { timeZone: kind.value.timeZone } : {}) };
      case "map":
        return {
          kind: "map",
          values: { ...kind.value.values },
          unmapped: UNMAPPED[kind.value.unmapped] ?? invalidUnmapped(kind.value.unmapped, `header.mappings[${index}].transforms[${j}].map.unmapped`),
          ...(kind.value.defaultValue !== undefined ? { default: kind.value.defaultValue } : {}),
          caseInsensitive: kind.value.caseInsensitive,
        };
      case "default":
        return { kind: "default", value: kind.value.value };
      case "template":
        return { kind: "template", value: kind.value.value };
      default:
        throw new InvalidTransferRequestError(
          `header.mappings[${index}].transforms[${j}] names no transform (trim, lowercase, date, default, template, map)`,
          `header.mappings[${index}].transforms[${j}]`,
        );
    }
  });
  if (mapping.ignore) return { source: mapping.source, ignore: true, ...(mapping.field ? { field: mapping.field } : {}), ...(transforms.length > 0 ? { transforms } : {}) };
  return { source: mapping.source, field: mapping.field, transforms };
}

export function jobQueryOf(request: ListJobsRequest): JobQuery {
  const query: JobQuery = {};
  if (request.subject) query.subject = request.subject;
  if (request.entity !== Entity.UNSPECIFIED) {
    const name = entityName(request.entity);
    if (!name) throw new InvalidTransferRequestError(`entity ${request.entity} is not an entity`, "entity");
    query.entity = name;
  }
  if (request.state !== JobState.UNSPECIFIED) query.state = plainState(request.state);
  if (request.kind !== JobKind.UNSPECIFIED) query.kind = plainKind(request.kind);
  if (request.createdFrom) query.createdFrom = boundDate(request.createdFrom, "created_from");
  if (request.createdTo) query.createdTo = boundDate(request.createdTo, "created_to");
  if (request.requestId) query.requestId = requestIdOf(request.requestId, "request_id");
  return query;
}

/** A time bound of a request; one finer than a millisecond is refused (stored times are whole milliseconds). */
function boundDate(ts: Timestamp, field: string): Date {
  const date = millisecondDate(ts);
  if (!date) throw new InvalidTransferRequestError(finerThanMillisecondsReason(field, ts, "bound"), field);
  return date;
}
