/** Builders for wire records and requests used across the records tests. */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext } from "@connectrpc/connect";
import type { Db } from "mongodb";
import { JOB_ID_HEADER } from "../../services/shared/audit/index.js";
import { prepareBeforeImages } from "../../services/records/store/before-images.js";
import { prepareChangeTracking } from "../../services/records/store/change-tracking.js";
import { ensureIndexes } from "../../services/records/store/collections.js";
import { type Entity, EntityRecordSchema, WriteMode, WriteRecordsRequestSchema, type EntityRecord, type WriteRecordsRequest } from "../../gen/dataexchange/records/v1/records_pb.js";

export const ts = (iso: string) => timestampFromDate(new Date(iso));

type Init = MessageInitShape<typeof EntityRecordSchema>;

export function userRecord(n: number | string, extra: Record<string, unknown> = {}): EntityRecord {
  return create(EntityRecordSchema, {
    kind: { case: "user", value: { email: `user${n}@example.org`, username: `user${n}`, firstName: "Ada", lastName: `Number ${n}`, role: "student", status: "active", ...extra } },
  } as Init);
}

export function courseRecord(code: string, extra: Record<string, unknown> = {}): EntityRecord {
  return create(EntityRecordSchema, { kind: { case: "course", value: { code, title: `Course ${code}`, ...extra } } } as Init);
}

export function sessionRecord(id: string, userId: string, courseId: string, extra: Record<string, unknown> = {}): EntityRecord {
  return create(EntityRecordSchema, {
    kind: { case: "session", value: { sessionId: id, userId, courseId, startedAt: ts("2024-01-01T10:00:00Z"), status: "completed", score: 71.5, ...extra } },
  } as Init);
}

export function enrollmentRecord(userId: string, courseId: string, extra: Record<string, unknown> = {}): EntityRecord {
  return create(EntityRecordSchema, { kind: { case: "enrollment", value: { userId, courseId, role: "student", status: "active", enrolledAt: ts("2024-01-01T00:00:00Z"), ...extra } } } as Init);
}

export function activityRecord(userId: string, extra: Record<string, unknown> = {}): EntityRecord {
  return create(EntityRecordSchema, { kind: { case: "activity", value: { userId, action: "view", at: ts("2024-01-02T00:00:00Z"), ...extra } } } as Init);
}

export function writeRequest(entity: Entity, records: EntityRecord[], options: Partial<{ mode: WriteMode; dryRun: boolean; ordered: boolean; batchId: string }> = {}): WriteRecordsRequest {
  return create(WriteRecordsRequestSchema, {
    entity,
    records,
    mode: options.mode ?? WriteMode.INSERT,
    dryRun: options.dryRun ?? false,
    ordered: options.ordered ?? false,
    batchId: options.batchId ?? "b1",
  });
}

export async function* fromArray<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** A call made for transfer job `jobId` (a server without auth believes the header as it is). */
export function forJob(jobId?: string): HandlerContext {
  return { signal: new AbortController().signal, requestHeader: new Headers(jobId ? { [JOB_ID_HEADER]: jobId } : {}) } as HandlerContext;
}

/** Empties the test database and sets it up as the records service does at start: indexes, change tracking, before-images. */
export async function emptyRecordsDatabase(db: Db): Promise<void> {
  await db.dropDatabase();
  await ensureIndexes(db);
  await prepareChangeTracking(db);
  await prepareBeforeImages(db);
}

/** A minimal handler context for calling the service class directly. */
export function handlerContext(signal: AbortSignal = new AbortController().signal): HandlerContext {
  return { signal } as HandlerContext;
}
