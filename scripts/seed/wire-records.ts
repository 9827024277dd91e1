/**
 * Plain records → wire records. Readers produce plain objects (dates as
 * `Date`, details as plain JSON) so they stay easy to test; the loader turns
 * each into an `EntityRecord` just before it is sent. Proto field names are the
 * records' field keys, so the conversion is only dates → Timestamps.
 */
import { create, isMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Entity, EntityRecordSchema, type EntityRecord } from "../../gen/dataexchange/records/v1/records_pb.js";

/** The entities the seed writes, in load order: references exist before the records that use them. */
export const SEED_ENTITIES = ["courses", "users", "enrollments", "sessions", "activity"] as const;
export type SeedEntity = (typeof SEED_ENTITIES)[number];

export const ENTITY_ENUM: Record<SeedEntity, Entity> = {
  courses: Entity.COURSES,
  users: Entity.USERS,
  enrollments: Entity.ENROLLMENTS,
  sessions: Entity.SESSIONS,
  activity: Entity.ACTIVITY,
};

const RECORD_CASE = { courses: "course", users: "user", enrollments: "enrollment", sessions: "session", activity: "activity" } as const;

/** A record as the readers make it: field keys to values, dates as Date. */
export type PlainRecord = Record<string, unknown>;

/** A wire record for `entity`; a record that already is one is passed through. */
export function toEntityRecord(entity: SeedEntity, record: PlainRecord | EntityRecord): EntityRecord {
  if (isMessage(record, EntityRecordSchema)) return record;
  const value: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(record)) {
    if (v === undefined || v === null) continue;
    value[key] = v instanceof Date ? timestampFromDate(v) : v;
  }
  return create(EntityRecordSchema, { kind: { case: RECORD_CASE[entity], value } } as MessageInitShape<typeof EntityRecordSchema>);
}

/** A short name of a record for error reports: its natural key. */
export function describeRecord(record: EntityRecord): string {
  const { kind } = record;
  switch (kind.case) {
    case "course":
      return kind.value.code ?? "?";
    case "user":
      return kind.value.email ?? kind.value.username ?? "?";
    case "enrollment":
      return `${kind.value.userId ?? "?"} in ${kind.value.courseId ?? "?"}`;
    case "session":
      return kind.value.sessionId ?? "?";
    case "activity":
      return `${kind.value.userId ?? "?"} ${kind.value.action ?? "?"} in ${kind.value.sessionId ?? "?"}`;
    default:
      return "(empty record)";
  }
}
