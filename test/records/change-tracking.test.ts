/**
 * Tier 1: what incremental exports stand on — every record's change time,
 * set by the server, and a tombstone for every deletion — on the real FerretDB.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { RecordsService } from "../../services/records/records-service.js";
import { prepareChangeTracking, stampRecordsWithoutChangeTime } from "../../services/records/store/change-tracking.js";
import { ensureIndexes } from "../../services/records/store/collections.js";
import { Entity, StreamDeletionsRequestSchema, StreamRecordsRequestSchema, WriteMode } from "../../gen/dataexchange/records/v1/records_pb.js";
import { openTestDatabase, type TestDatabase } from "../support/database.js";
import { asServed } from "../support/served-records-service.js";
import { activityRecord, collect, courseRecord, enrollmentRecord, fromArray, handlerContext, sessionRecord, ts, userRecord, writeRequest } from "./fixtures.js";

let t: TestDatabase;
let service: RecordsService;

beforeAll(async () => {
  t = await openTestDatabase("change_tracking");
});
afterAll(async () => t?.close());
beforeEach(async () => {
  await t.db.dropDatabase();
  await ensureIndexes(t.db);
  await prepareChangeTracking(t.db);
  service = asServed(new RecordsService(t.db));
});

async function write(entity: Entity, records: Parameters<typeof writeRequest>[1], mode = WriteMode.INSERT) {
  const [result] = await collect(service.writeRecords(fromArray([writeRequest(entity, records, { mode })]), handlerContext()));
  return result!;
}

async function stream(init: Parameters<typeof create<typeof StreamRecordsRequestSchema>>[1]) {
  const responses = await collect(service.streamRecords(create(StreamRecordsRequestSchema, init), handlerContext()));
  return responses.flatMap((r) => r.records.map((rec) => rec.kind.value as unknown as Record<string, unknown>));
}

async function deletions(entity: Entity, since?: Date) {
  const responses = await collect(service.streamDeletions(create(StreamDeletionsRequestSchema, { entity, since: since ? timestampFromDate(since) : undefined, batchSize: 2 }), handlerContext()));
  return responses.flatMap((r) => r.deletions.map((d) => ({ key: d.key?.parts, deletedAt: timestampDate(d.deletedAt!) })));
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const changedSince = (entity: Entity, field: string, from: Date) => stream({ entity, filter: { timeRanges: [{ field, from: timestampFromDate(from) }] } });

describe("the time of each record's last change", () => {
  it("is set on insert for courses, sessions and enrollments, and moves only when a record changes", async () => {
    await write(Entity.USERS, [userRecord(1)]);
    await write(Entity.COURSES, [courseRecord("C1"), courseRecord("C2")]);
    await write(Entity.SESSIONS, [sessionRecord("s1", "user1", "C1")]);
    await write(Entity.ENROLLMENTS, [enrollmentRecord("user1", "C1")]);
    for (const entity of [Entity.COURSES, Entity.SESSIONS, Entity.ENROLLMENTS]) {
      for (const record of await stream({ entity })) expect(record.updatedAt, `entity ${entity}`).toBeDefined();
    }
    const [before] = await stream({ entity: Entity.COURSES, filter: { keys: [{ parts: ["C1"] }] } });
    await pause(20);
    const mark = new Date();
    // The same course again is unchanged and keeps its time; a new title is a change.
    expect(await write(Entity.COURSES, [courseRecord("C1"), courseRecord("C2", { title: "Renamed" })], WriteMode.UPSERT)).toMatchObject({ unchanged: 1, updated: 1 });
    const [after] = await stream({ entity: Entity.COURSES, filter: { keys: [{ parts: ["C1"] }] } });
    expect(after!.updatedAt).toEqual(before!.updatedAt);
    expect((await changedSince(Entity.COURSES, "updatedAt", mark)).map((c) => c.code)).toEqual(["C2"]);
    // A merge that changes one field counts as a change too.
    await pause(20);
    const second = new Date();
    expect(await write(Entity.ENROLLMENTS, [enrollmentRecord("user1", "C1", { status: "completed", enrolledAt: undefined, role: undefined })], WriteMode.MERGE)).toMatchObject({ updated: 1 });
    expect((await changedSince(Entity.ENROLLMENTS, "updatedAt", second)).map((e) => e.status)).toEqual(["completed"]);
    expect(await changedSince(Entity.COURSES, "updatedAt", second)).toEqual([]);
  });

  it("is set on the activity log when an entry is stored, also for an entry restored with an old time", async () => {
    await write(Entity.USERS, [userRecord(1)]);
    const mark = new Date();
    await write(Entity.ACTIVITY, [activityRecord("user1", { at: ts("2019-05-01T08:00:00Z") })]);
    const [entry] = await changedSince(Entity.ACTIVITY, "recordedAt", mark);
    expect(entry).toMatchObject({ userId: "user1", action: "view" });
    expect(timestampDate(entry!.at as never).toISOString()).toBe("2019-05-01T08:00:00.000Z");
    expect(timestampDate(entry!.recordedAt as never).getTime()).toBeGreaterThanOrEqual(mark.getTime());
  });

  it("is not taken from the file: a client's updatedAt is ignored as every read-only field is", async () => {
    await write(Entity.COURSES, [courseRecord("C1", { updatedAt: ts("2001-01-01T00:00:00Z") })]);
    const [course] = await stream({ entity: Entity.COURSES });
    expect(timestampDate(course!.updatedAt as never).getFullYear()).toBeGreaterThan(2020);
  });

  it("is given once, at the first start of this version, to records stored before change times existed", async () => {
    await t.db.collection("migrations").deleteMany({});
    await t.db.collection("courses").insertOne({ code: "OLD1", title: "Stored by an earlier version", visible: true });
    const now = new Date("2026-12-01T09:00:00Z");
    expect(await stampRecordsWithoutChangeTime(t.db, now)).toBe(1);
    expect(await t.db.collection("courses").findOne({ code: "OLD1" })).toMatchObject({ updatedAt: now });
    // Once: a record that somehow has none later is not stamped by the next start.
    await t.db.collection("courses").insertOne({ code: "OLD2", title: "Later", visible: true });
    expect(await stampRecordsWithoutChangeTime(t.db)).toBe(0);
  });
});

describe("tombstones", () => {
  it("are written for each deleted record and listed since a time, oldest first, in batches", async () => {
    await write(
      Entity.COURSES,
      ["D1", "D2", "D3", "D4"].map((code) => courseRecord(code)),
    );
    await service.deleteRecord({ entity: Entity.COURSES, key: { parts: ["D1"] } } as never, handlerContext());
    await pause(20);
    const mark = new Date();
    for (const code of ["D3", "D2", "D4"]) await service.deleteRecord({ entity: Entity.COURSES, key: { parts: [code] } } as never, handlerContext());
    const all = await deletions(Entity.COURSES);
    expect(all.map((d) => d.key)).toEqual([["D1"], ["D3"], ["D2"], ["D4"]]);
    expect((await deletions(Entity.COURSES, mark)).map((d) => d.key)).toEqual([["D3"], ["D2"], ["D4"]]);
    expect(all[1]!.deletedAt.getTime()).toBeGreaterThanOrEqual(mark.getTime());
    expect(await deletions(Entity.USERS)).toEqual([]);
  });

  it("name an enrollment by both parts of its key", async () => {
    await write(Entity.USERS, [userRecord(1)]);
    await write(Entity.COURSES, [courseRecord("E1")]);
    await write(Entity.ENROLLMENTS, [enrollmentRecord("user1", "E1")]);
    await service.deleteRecord({ entity: Entity.ENROLLMENTS, key: { parts: ["user1", "E1"] } } as never, handlerContext());
    expect((await deletions(Entity.ENROLLMENTS)).map((d) => d.key)).toEqual([["user1", "E1"]]);
  });

  it("are not written for a delete that was refused", async () => {
    await write(Entity.USERS, [userRecord(1)]);
    await write(Entity.COURSES, [courseRecord("R1")]);
    await write(Entity.ENROLLMENTS, [enrollmentRecord("user1", "R1")]);
    const refused = await service.deleteRecord({ entity: Entity.COURSES, key: { parts: ["R1"] } } as never, handlerContext()).catch((e: unknown) => ConnectError.from(e));
    expect(refused).toBeInstanceOf(ConnectError);
    const missing = await service.deleteRecord({ entity: Entity.COURSES, key: { parts: ["NOPE"] } } as never, handlerContext()).catch((e: unknown) => ConnectError.from(e));
    expect((missing as ConnectError).code).toBe(Code.NotFound);
    expect(await deletions(Entity.COURSES)).toEqual([]);
  });

  it("cannot be asked of the append-only activity log, nor without an entity", async () => {
    for (const entity of [Entity.ACTIVITY, Entity.UNSPECIFIED]) {
      const error = await deletions(entity).catch((e: unknown) => ConnectError.from(e));
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    }
  });
});
