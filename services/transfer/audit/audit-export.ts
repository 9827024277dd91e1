/**
 * The audit trail as an export source: `Export` with source
 * EXPORT_SOURCE_AUDIT_EVENTS (or `GET /export/{format}?source=audit`) runs
 * the normal export path — the same core pipeline, plugins, job, checksum and
 * progress — over the transfer service's `audit_events` instead of records of
 * an entity.
 *
 * The core plans columns from an entity spec, so the trail is described as
 * one: a table of read-only columns that is never written (its name is not an
 * entity of the records service, hence the cast) and never reaches the
 * records service.
 */
import { z } from "zod";
import { booleanField, listField, objectField, stringField, timestampField, type EntityName, type EntitySpec } from "../../domain/index.js";
import { withoutPersonalData, type AuditEventDocument, type AuditLog, type AuditQuery } from "../../shared/audit/index.js";

const any = z.unknown();
const str = (key: string, label: string) => stringField(key, label, z.string(), { readOnly: true });

/** The columns of an audit export, in file order. */
export const AUDIT_EVENTS_SPEC: EntitySpec = {
  name: "audit_events" as EntityName,
  label: "Audit events",
  fields: [
    timestampField("time", "Time", { readOnly: true }),
    str("action", "Action"),
    str("subject", "Subject"),
    str("onBehalfOf", "On behalf of"),
    listField("roles", "Roles", "string_list"),
    str("entity", "Entity"),
    str("source", "Source"),
    str("format", "Format"),
    str("filter", "Filter"),
    listField("fields", "Fields", "string_list"),
    str("mode", "Mode"),
    booleanField("dryRun", "Dry run", { readOnly: true }),
    listField("recordKey", "Record key", "string_list"),
    objectField("counts", "Counts", any, { readOnly: true }),
    str("outcome", "Outcome"),
    str("error", "Error"),
    str("errorCode", "Error code"),
    str("clientAddress", "Client address"),
    str("jobId", "Job id"),
    str("traceId", "Trace id"),
    str("service", "Service"),
    str("id", "Event id"),
  ],
  keyFields: ["id"],
  uniqueFields: [],
  timeFields: ["time"],
  indexedFields: [],
  references: [],
  appendOnly: true,
};

/** One event as a row source for the export pipeline (personal keys withheld unless `pii`). */
export function auditEventRecord(event: AuditEventDocument, seesPersonalData: boolean): Record<string, unknown> {
  const { _id, ...rest } = seesPersonalData ? event : withoutPersonalData(event);
  return { id: _id, ...rest };
}

/** The matching events, oldest first, in batches for the export pipeline. */
export async function* auditEventBatches(log: AuditLog, query: AuditQuery, seesPersonalData: boolean, batchSize = 500): AsyncGenerator<Record<string, unknown>[]> {
  for await (const batch of log.stream(query, batchSize)) yield batch.map((e) => auditEventRecord(e, seesPersonalData));
}
