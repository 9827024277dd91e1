/**
 * Reads the wire requests into the store's terms: entity names, write modes,
 * joins and filters. Anything unset or unknown is refused here with a clear
 * INVALID_ARGUMENT, before any database work.
 */
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { finerThanMillisecondsReason, millisecondDate } from "../../shared/rpc/millisecond-timestamps.js";
import { ENTITIES, type EntitySpec } from "../../domain/index.js";
import { InvalidRequestError } from "../errors.js";
import type { RecordFilter } from "../store/record-query.js";
import type { WriteMode as StoreWriteMode } from "../store/batch-writer.js";
import type { SessionJoin } from "../store/session-joins.js";
import { Join, WriteMode, WriteOutcome, type Entity, type Filter } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { entityName } from "../../shared/records-wire/record-codec.js";
import type { Outcome } from "../store/batch-writer.js";

export function requireEntity(value: Entity): EntitySpec {
  const name = entityName(value);
  if (!name)
    throw new InvalidRequestError("entity is required: one of ENTITY_USERS, ENTITY_COURSES, ENTITY_SESSIONS, ENTITY_ENROLLMENTS, ENTITY_ACTIVITY", [{ field: "entity", reason: "is required" }]);
  return ENTITIES[name];
}

const MODES: Record<number, StoreWriteMode> = {
  [WriteMode.INSERT]: "insert",
  [WriteMode.UPSERT]: "upsert",
  [WriteMode.MERGE]: "merge",
  [WriteMode.SKIP_EXISTING]: "skip-existing",
};

export function requireMode(value: WriteMode): StoreWriteMode {
  const mode = MODES[value];
  if (!mode) throw new InvalidRequestError("mode is required: one of WRITE_MODE_INSERT, WRITE_MODE_UPSERT, WRITE_MODE_MERGE, WRITE_MODE_SKIP_EXISTING", [{ field: "mode", reason: "is required" }]);
  return mode;
}

const JOINS: Record<number, SessionJoin> = {
  [Join.USER]: "user",
  [Join.COURSE]: "course",
  [Join.ACTIVITY_IDS]: "activityIds",
  [Join.ACTIVITIES]: "activities",
};

export function readJoins(values: Join[]): SessionJoin[] {
  return values.map((v) => {
    const join = JOINS[v];
    if (!join) throw new InvalidRequestError(`unknown join ${v}`, [{ field: "joins", reason: "unknown join" }]);
    return join;
  });
}

/**
 * A read's limit as a number (0: none). A larger limit than a JavaScript
 * number holds exactly could not be passed to the database unchanged (past
 * 2^63 the driver refused it with an internal error), and limits nothing.
 */
export function readLimit(limit: bigint): number {
  if (limit > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidRequestError(`limit must be at most ${Number.MAX_SAFE_INTEGER} (0: no limit), not ${limit}`, [{ field: "limit", reason: "too large" }]);
  return Number(limit);
}

export function readFilter(filter: Filter | undefined): RecordFilter | undefined {
  if (!filter) return undefined;
  return {
    keys: filter.keys.map((k) => k.parts),
    statuses: filter.statuses,
    userIds: filter.userIds,
    courseIds: filter.courseIds,
    roles: filter.roles,
    sessionIds: filter.sessionIds,
    actions: filter.actions,
    timeRanges: filter.timeRanges.map((r, i) => ({
      field: r.field,
      from: r.from ? boundDate(r.from, `filter.time_ranges[${i}].from`) : undefined,
      to: r.to ? boundDate(r.to, `filter.time_ranges[${i}].to`) : undefined,
    })),
  };
}

/** A filter's time bound as a Date; one finer than a millisecond is refused (stored times are whole milliseconds). */
export function boundDate(ts: Timestamp, field: string): Date {
  const date = millisecondDate(ts);
  if (date) return date;
  const reason = finerThanMillisecondsReason(field, ts, "bound");
  throw new InvalidRequestError(reason, [{ field, reason: "finer than milliseconds" }]);
}

export const OUTCOMES: Record<Outcome, WriteOutcome> = {
  inserted: WriteOutcome.INSERTED,
  updated: WriteOutcome.UPDATED,
  unchanged: WriteOutcome.UNCHANGED,
  skipped: WriteOutcome.SKIPPED,
};
