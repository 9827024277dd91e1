/**
 * Audit events and their filter as wire messages (dataexchange.audit.v1),
 * shared by both services' ListAuditEvents and the transfer service's
 * export of the trail.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { AuditAction, AuditEventFilterSchema, AuditEventSchema, AuditOutcome, type AuditEvent, type AuditEventFilter } from "../../../gen/dataexchange/audit/v1/audit_pb.js";
import { entitySpec, type EntityName } from "../../domain/index.js";
import type { AuditAction as PlainAction, AuditEventDocument, AuditOutcome as PlainOutcome } from "./audit-event.js";
import type { AuditQuery } from "./audit-log.js";
import { finerThanMillisecondsReason, millisecondDate } from "../rpc/millisecond-timestamps.js";

const ACTIONS: Record<PlainAction, AuditAction> = {
  export: AuditAction.EXPORT,
  import: AuditAction.IMPORT,
  put: AuditAction.PUT,
  delete: AuditAction.DELETE,
  write: AuditAction.WRITE,
  revert: AuditAction.REVERT,
};

const OUTCOMES: Record<PlainOutcome, AuditOutcome> = {
  succeeded: AuditOutcome.SUCCEEDED,
  failed: AuditOutcome.FAILED,
  cancelled: AuditOutcome.CANCELLED,
};

/** A filter the caller must fix; `field` names the request field. */
export class InvalidAuditFilterError extends Error {
  override name = "InvalidAuditFilterError";
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

/** The plain action of a wire action; undefined for UNSPECIFIED. */
export function plainAuditAction(value: AuditAction, field = "filter.action"): PlainAction | undefined {
  if (value === AuditAction.UNSPECIFIED) return undefined;
  const found = (Object.entries(ACTIONS) as [PlainAction, AuditAction][]).find(([, v]) => v === value)?.[0];
  if (!found) throw new InvalidAuditFilterError(`${field} ${value} is not an audit action`, field);
  return found;
}

/** An entity name of a filter, checked. */
export function auditEntity(name: string, field = "filter.entity"): EntityName | undefined {
  const trimmed = name.trim().toLowerCase();
  if (!trimmed) return undefined;
  const spec = entitySpec(trimmed);
  if (!spec) throw new InvalidAuditFilterError(`${field} must be one of users, courses, sessions, enrollments, activity, not ${JSON.stringify(name)}`, field);
  return spec.name;
}

/** The query a wire filter describes (an unset filter selects everything). */
export function auditQueryOf(filter: AuditEventFilter | undefined, prefix = "filter"): AuditQuery {
  const query: AuditQuery = {};
  if (!filter) return query;
  if (filter.subject.trim()) query.subject = filter.subject.trim();
  const action = plainAuditAction(filter.action, `${prefix}.action`);
  if (action) query.action = action;
  const entity = auditEntity(filter.entity, `${prefix}.entity`);
  if (entity) query.entity = entity;
  if (filter.from) query.from = auditBound(filter.from, `${prefix}.from`);
  if (filter.to) query.to = auditBound(filter.to, `${prefix}.to`);
  return query;
}

/** A time bound of a filter; one finer than a millisecond is refused (events are stamped in whole milliseconds). */
function auditBound(ts: Timestamp, field: string): Date {
  const date = millisecondDate(ts);
  if (!date) throw new InvalidAuditFilterError(finerThanMillisecondsReason(field, ts, "bound"), field);
  return date;
}

/** The query as JSON text, recorded on the audit event of an audit export. */
export function auditQueryJson(query: AuditQuery): string {
  return JSON.stringify({ ...query, from: query.from?.toISOString(), to: query.to?.toISOString() });
}

/** The wire filter of a query stored with `auditQueryJson` (a job's record of what it exported). */
export function auditFilterOfJson(text: string): AuditEventFilter {
  let value: Record<string, unknown> = {};
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // an unreadable record shows as no filter
  }
  const str = (v: unknown) => (typeof v === "string" ? v : "");
  const date = (v: unknown) => (typeof v === "string" && !Number.isNaN(Date.parse(v)) ? timestampFromDate(new Date(v)) : undefined);
  const action = str(value.action) as PlainAction;
  return create(AuditEventFilterSchema, { subject: str(value.subject), action: ACTIONS[action] ?? AuditAction.UNSPECIFIED, entity: str(value.entity), from: date(value.from), to: date(value.to) });
}

export function auditEventMessage(event: AuditEventDocument): AuditEvent {
  const counts = Object.fromEntries(Object.entries(event.counts ?? {}).map(([k, v]) => [k, BigInt(v ?? 0)]));
  return create(AuditEventSchema, {
    id: event._id,
    time: timestampFromDate(event.time),
    service: event.service,
    action: ACTIONS[event.action],
    subject: event.subject,
    onBehalfOf: event.onBehalfOf ?? "",
    roles: event.roles ?? [],
    entity: event.entity ?? "",
    format: event.format ?? "",
    filter: event.filter ?? "",
    fields: event.fields ?? [],
    mode: event.mode ?? "",
    dryRun: event.dryRun ?? false,
    recordKey: event.recordKey ?? [],
    counts,
    outcome: OUTCOMES[event.outcome],
    error: event.error ?? "",
    errorCode: event.errorCode ?? "",
    clientAddress: event.clientAddress ?? "",
    jobId: event.jobId ?? "",
    traceId: event.traceId ?? "",
    source: event.source ?? "",
  });
}
