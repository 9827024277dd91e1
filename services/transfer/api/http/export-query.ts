/**
 * The export a download URL describes: `GET /export/{format}?…` as an
 * export job request, the same the Export RPC's message becomes
 * (api/rpc/request-codec.ts), so both run the same job. Every parameter is checked here, and a name that is not one of them is
 * refused (request-params.ts).
 *
 * Records (`source=records`, the default): `entity` (required), `fields=a,b`
 * (selection and order), filters `status`, `role`, `user_id`, `course_id`,
 * `session_id`, `action` (comma lists, or repeated), `from` / `to` (ISO 8601,
 * on `time_field`, default the entity's first time field), `sort=field,-field`,
 * `limit`, `changed_since` (ISO 8601: records changed at or after it, the
 * previous export's `x-high-water-mark`), and `options` / `labels` as JSON
 * objects. `/export/pretty` is JSON with `pretty: true`.
 *
 * Deletions (`source=deletions`): the keys of `entity`'s deleted records and
 * when, since `changed_since` when given; `fields`, `labels`, `options`,
 * `limit`.
 *
 * The audit trail (`source=audit`, auditors and admins): filters `subject`,
 * `action` (export, import, …), `entity`, `from`, `to`; `fields`, `labels`,
 * `options` and `limit` as for records. The records filters do not apply to
 * it, and are refused.
 */
import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { FilterSchema } from "../../../../gen/dataexchange/records/v1/records_pb.js";
import { AuditAction, AuditEventFilterSchema } from "../../../../gen/dataexchange/audit/v1/audit_pb.js";
import { AUDIT_ACTIONS, auditQueryOf } from "../../../shared/audit/index.js";
import { AUDIT_EVENTS_SPEC } from "../../audit/audit-export.js";
import { InvalidTransferRequestError } from "../../errors.js";
import type { ExportJobRequest } from "../../jobs/export-job.js";
import { checkChangedSince, deletionsSpecOf } from "../../records/incremental-export.js";
import { requireEntityName } from "../../transfer-context.js";
import { dateParam, emptyValueError, jsonObjectParam, refuseEmpty, refuseUnknownQuery, wholeNumberParam, type ParamSpec } from "./request-params.js";

/** Formats that are another format with preset options. */
const ALIASES: Readonly<Record<string, { format: string; options: JsonObject }>> = {
  pretty: { format: "json", options: { pretty: true } },
};

export function aliasOf(formatSegment: string): { format: string; options: JsonObject } | undefined {
  const name = formatSegment.toLowerCase();
  return Object.hasOwn(ALIASES, name) ? ALIASES[name] : undefined;
}

/** What both sources take: the selection, the plugin's options, labels and a limit. */
const COMMON: ParamSpec[] = [
  { name: "source" },
  { name: "fields", repeatable: true },
  { name: "labels" },
  { name: "options" },
  { name: "limit" },
  { name: "from" },
  { name: "to" },
  { name: "entity" },
];

/** The query parameters of an export of records. */
export const RECORDS_EXPORT_PARAMS: readonly ParamSpec[] = [
  ...COMMON,
  { name: "changed_since" },
  { name: "time_field" },
  { name: "sort", repeatable: true },
  ...["status", "role", "user_id", "course_id", "session_id", "action"].map((name) => ({ name, repeatable: true })),
];

/** The query parameters of an export of deletions. */
export const DELETIONS_EXPORT_PARAMS: readonly ParamSpec[] = [
  { name: "source" },
  { name: "entity" },
  { name: "changed_since" },
  { name: "fields", repeatable: true },
  { name: "labels" },
  { name: "options" },
  { name: "limit" },
];

/** The query parameters of an export of the audit trail. */
export const AUDIT_EXPORT_PARAMS: readonly ParamSpec[] = [...COMMON, { name: "subject" }, { name: "action" }];

/** A comma list, or repeated: each occurrence must name something (`status=` or `status=,` is refused, not "no filter"). */
function list(query: URLSearchParams, name: string): string[] {
  return query.getAll(name).flatMap((v) => {
    const items = v
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean);
    if (items.length === 0) throw emptyValueError(name);
    return items;
  });
}

/** `source`: records (the default when absent), audit or deletions; refused when empty. */
export function sourceParam(query: URLSearchParams): "records" | "audit" | "deletions" {
  refuseEmpty(query.get("source"), "source");
  const source = (query.get("source") ?? "records").trim().toLowerCase();
  if (source !== "records" && source !== "audit" && source !== "deletions")
    throw new InvalidTransferRequestError(`source must be records, audit or deletions, not ${JSON.stringify(query.get("source"))}`, "source");
  return source;
}

function changedSinceParam(query: URLSearchParams): Date | undefined {
  const since = dateParam(query, "changed_since");
  return since ? checkChangedSince(since) : undefined;
}

/** `?source=deletions`: the keys of an entity's deleted records, since `changed_since`. */
function deletionsExportRequest(formatSegment: string, query: URLSearchParams): ExportJobRequest {
  refuseUnknownQuery(query, DELETIONS_EXPORT_PARAMS, "an export of deletions (source=deletions)");
  const entity = requireEntityName(query.get("entity"));
  if (entity.appendOnly) throw new InvalidTransferRequestError(`${entity.name} is append-only: nothing of it is ever deleted`, "entity");
  return {
    target: { source: "deletions", spec: deletionsSpecOf(entity), entity },
    format: aliasOf(formatSegment)?.format ?? formatSegment,
    formatOptions: optionsParam(formatSegment, query),
    fields: list(query, "fields"),
    labels: labelsParam(query),
    limit: limitParam(query),
    estimateTotal: false,
    changedSince: changedSinceParam(query),
  };
}

function limitParam(query: URLSearchParams): number {
  return wholeNumberParam(query, "limit") ?? 0;
}

function labelsParam(query: URLSearchParams): Record<string, string> {
  const labels = jsonObjectParam(query.get("labels"), "labels");
  for (const [k, v] of Object.entries(labels)) if (typeof v !== "string") throw new InvalidTransferRequestError(`labels.${k} must be text`, "labels");
  return labels as Record<string, string>;
}

export function optionsParam(formatSegment: string, query: URLSearchParams): JsonObject {
  return { ...(aliasOf(formatSegment)?.options ?? {}), ...jsonObjectParam(query.get("options"), "options") };
}

/** `?source=audit`: the audit trail, filtered by subject, action, entity, from, to. */
function auditExportRequest(formatSegment: string, query: URLSearchParams): ExportJobRequest {
  refuseUnknownQuery(query, AUDIT_EXPORT_PARAMS, "an export of the audit trail (source=audit)");
  const action = query.get("action")?.trim().toLowerCase();
  if (action && !(AUDIT_ACTIONS as readonly string[]).includes(action)) throw new InvalidTransferRequestError(`action must be one of ${AUDIT_ACTIONS.join(", ")}`, "action");
  const from = dateParam(query, "from");
  const to = dateParam(query, "to");
  const entity = query.get("entity");
  const format = aliasOf(formatSegment)?.format ?? formatSegment;
  const formatOptions = optionsParam(formatSegment, query);
  const fields = list(query, "fields");
  const labels = labelsParam(query);
  const limit = limitParam(query);
  // Read as the RPC's audit_filter is, so that both name the same problems the same way.
  const filter = create(AuditEventFilterSchema, {
    subject: query.get("subject") ?? "",
    action: action ? AuditAction[action.toUpperCase() as keyof typeof AuditAction] : AuditAction.UNSPECIFIED,
    entity: entity ? requireEntityName(entity).name : "",
    from: from ? timestampFromDate(from) : undefined,
    to: to ? timestampFromDate(to) : undefined,
  });
  return { target: { source: "audit", spec: AUDIT_EVENTS_SPEC, query: auditQueryOf(filter, "audit_filter") }, format, formatOptions, fields, labels, limit, estimateTotal: false };
}

/** The export request a download URL describes. */
export function exportRequestFromQuery(formatSegment: string, query: URLSearchParams): ExportJobRequest {
  const source = sourceParam(query);
  if (source === "audit") return auditExportRequest(formatSegment, query);
  if (source === "deletions") return deletionsExportRequest(formatSegment, query);
  refuseUnknownQuery(query, RECORDS_EXPORT_PARAMS, "an export of records");
  const spec = requireEntityName(query.get("entity"));
  const from = dateParam(query, "from");
  const to = dateParam(query, "to");
  const timeField = query.get("time_field") ?? spec.timeFields[0];
  if ((from || to || query.has("time_field")) && (!timeField || !spec.timeFields.includes(timeField))) {
    throw new InvalidTransferRequestError(`time_field must be one of ${spec.timeFields.join(", ") || `(none: ${spec.name} has no time fields)`}`, "time_field");
  }
  if (query.has("time_field") && !from && !to) throw new InvalidTransferRequestError("time_field names the field that from and to apply to; give from or to with it", "time_field");
  const format = aliasOf(formatSegment)?.format ?? formatSegment;
  const formatOptions = optionsParam(formatSegment, query);
  const fields = list(query, "fields");
  const labels = labelsParam(query);
  const filter = create(FilterSchema, {
    statuses: list(query, "status"),
    roles: list(query, "role"),
    userIds: list(query, "user_id"),
    courseIds: list(query, "course_id"),
    sessionIds: list(query, "session_id"),
    actions: list(query, "action"),
    timeRanges: from || to ? [{ field: timeField, from: from ? timestampFromDate(from) : undefined, to: to ? timestampFromDate(to) : undefined }] : [],
  });
  const sort = list(query, "sort").map((s) => ({ field: s.replace(/^[-+]/, ""), descending: s.startsWith("-") }));
  return { target: { source: "records", spec, filter, sort }, format, formatOptions, fields, labels, limit: limitParam(query), estimateTotal: false, changedSince: changedSinceParam(query) };
}
