/**
 * Incremental exports: what changed since the last one, and what was deleted.
 *
 * Every record carries the server-set time of its last change (the entity's
 * `changeField`: `updatedAt`, or `recordedAt` for the activity log), so
 * "changed since" is a time range on that field, run by the records service
 * like any other filter. Each export hands out a **high-water mark** — the
 * `changed_since` for the next run — that lies `exportChangeOverlapSeconds`
 * before it began reading: a write under way at that moment (its change
 * time taken before the export began, committed after) and a records
 * service whose clock runs behind are caught by the next run, which may
 * repeat a few records instead of missing one. Downstream, upserts by
 * natural key make the repetition harmless.
 *
 * Deletions come from the records service's tombstones (StreamDeletions) as
 * an export source of their own: a table of the entity's key columns and
 * `deletedAt`, through the same pipeline, plugins and job as records.
 */
import { clone, create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { FilterSchema, TimeRangeSchema, type Deletion, type Filter } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { timestampField, type EntityName, type EntitySpec } from "../../domain/index.js";
import { InvalidTransferRequestError } from "../errors.js";

/** A copy of the records filter narrowed to records changed at or after `since` (the request's own is left as it was). */
export function changedSinceFilter(spec: EntitySpec, filter: Filter | undefined, since: Date): Filter {
  if (!spec.changeField) throw new InvalidTransferRequestError(`${spec.name} has no change time: changed_since does not apply`, "changed_since");
  // A copy: create() hands back a message it is given as it is, and the request's filter must stay the user's.
  const narrowed = filter ? clone(FilterSchema, filter) : create(FilterSchema);
  narrowed.timeRanges.push(create(TimeRangeSchema, { field: spec.changeField, from: timestampFromDate(since) }));
  return narrowed;
}

/** The `changed_since` to hand out with an export that begins reading now. */
export function highWaterMarkAt(start: Date, overlapSeconds: number): Date {
  return new Date(start.getTime() - overlapSeconds * 1000);
}

/** A time a client sent as `changed_since`: refused when it lies in the future (a clock or a typo), which would silently export nothing. */
export function checkChangedSince(since: Date, now = new Date(), setting = "changed_since"): Date {
  if (Number.isNaN(since.getTime())) throw new InvalidTransferRequestError(`${setting} is not a valid time`, setting);
  // A minute of grace for clocks that differ between the client and this service.
  if (since.getTime() > now.getTime() + 60_000) throw new InvalidTransferRequestError(`${setting} ${since.toISOString()} is in the future: no record can have changed since then`, setting);
  return since;
}

const specCache = new Map<EntityName, EntitySpec>();

/**
 * The table a deletions export writes: the entity's key columns (labels,
 * types and personal flags as the entity has them) and `deletedAt`. Not an
 * entity of the records service (hence the cast of its name), never written.
 */
export function deletionsSpecOf(entity: EntitySpec): EntitySpec {
  let spec = specCache.get(entity.name);
  if (!spec) {
    const keyFields = entity.keyFields.map((key) => ({ ...entity.fields.find((f) => f.key === key)!, readOnly: true, required: false }));
    spec = {
      name: `${entity.name}-deletions` as EntityName,
      label: `${entity.label}: deletions`,
      fields: [...keyFields, timestampField("deletedAt", "Deleted at", { readOnly: true, description: "When the record was deleted." })],
      keyFields: entity.keyFields,
      uniqueFields: [],
      timeFields: ["deletedAt"],
      indexedFields: [],
      references: [],
      appendOnly: true,
    };
    specCache.set(entity.name, spec);
  }
  return spec;
}

/** One tombstone as a row of the deletions table. */
export function deletionRecord(entity: EntitySpec, deletion: Deletion): Record<string, unknown> {
  const parts = deletion.key?.parts ?? [];
  const record: Record<string, unknown> = Object.fromEntries(entity.keyFields.map((key, i) => [key, parts[i]]));
  if (deletion.deletedAt) record.deletedAt = timestampDate(deletion.deletedAt);
  return record;
}
