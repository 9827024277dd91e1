/**
 * Tier 1: what RevertWrites stands on, on the real FerretDB — every write
 * path of the batch writer remembers what a job's writes replaced, and a
 * revert puts records back, deletes what the job inserted, and refuses (with
 * a reason, leaving the record as it is) what changed since or is referenced.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type { Document } from "mongodb";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { loadRecordsConfig } from "../../services/records/config.js";
import { RecordsService } from "../../services/records/records-service.js";
import { prepareChangeTracking, TOMBSTONES } from "../../services/records/store/change-tracking.js";
import { ensureIndexes } from "../../services/records/store/collections.js";
import { BEFORE_IMAGES, prepareBeforeImages, purgeExpiredBeforeImages } from "../../services/records/store/before-images.js";
import { Entity, RevertWritesRequestSchema, WriteMode, type RevertWritesResponse } from "../../gen/dataexchange/records/v1/records_pb.js";
import { JOB_ID_HEADER } from "../../services/shared/audit/index.js";
import { openTestDatabase, type TestDatabase } from "../support/database.js";
import { asServed } from "../support/served-records-service.js";
import { activityRecord, collect, courseRecord, enrollmentRecord, fromArray, sessionRecord, userRecord, writeRequest } from "./fixtures.js";

let t: TestDatabase;
let service: RecordsService;

beforeAll(async () => {
  t = await openTestDatabase("revert_writes");
});
afterAll(async () => t?.close());
beforeEach(async () => {
  await t.db.dropDatabase();
  await ensureIndexes(t.db);
  await prepareChangeTracking(t.db);
  await prepareBeforeImages(t.db);
  service = asServed(new RecordsService(t.db));
});

/** A call made for transfer job `jobId` (a server without auth believes the header as it is). */
function forJob(jobId?: string): HandlerContext {
  return { signal: new AbortController().signal, requestHeader: new Headers(jobId ? { [JOB_ID_HEADER]: jobId } : {}) } as HandlerContext;
}

async function write(entity: Entity, records: Parameters<typeof writeRequest>[1], options: Parameters<typeof writeRequest>[2] & { jobId?: string } = {}) {
  const { jobId, ...request } = options;
  const [result] = await collect(service.writeRecords(fromArray([writeRequest(entity, records, { mode: WriteMode.INSERT, ...request })]), forJob(jobId)));
  return result!;
}

async function revert(entity: Entity, jobId: string) {
  const responses = await collect(service.revertWrites(create(RevertWritesRequestSchema, { jobId, entity }), forJob("revert-job")));
  return sum(responses);
}

function sum(responses: RevertWritesResponse[]) {
  const total = { restored: 0, deleted: 0, unchanged: 0, refused: 0, refusals: [] as { key: string[]; reason: string; code: string }[] };
  for (const r of responses) {
    total.restored += r.restored;
    total.deleted += r.deleted;
    total.unchanged += r.unchanged;
    total.refused += r.refused;
    total.refusals.push(...r.refusals.map((f) => ({ key: f.key?.parts ?? [], reason: f.reason, code: f.code })));
  }
  return total;
}

const users = () => t.db.collection("users");
const courses = () => t.db.collection("courses");
const entries = (jobId: string) => t.db.collection(BEFORE_IMAGES).find({ jobId }).sort({ _id: 1 }).toArray();
/** A stored document without its change time, which a revert sets anew. */
const withoutChangeTime = ({ updatedAt: _u, ...doc }: Document) => doc;

describe("a job's writes", () => {
  it("are remembered per record (inserted, or the stored document an update replaced), and only with a job id", async () => {
    await write(Entity.COURSES, [courseRecord("A")]);
    const seeded = await courses().findOne({ code: "A" });
    const answer = await write(Entity.COURSES, [courseRecord("A", { title: "New" }), courseRecord("B")], { mode: WriteMode.UPSERT, jobId: "job-1" });
    expect(answer.revertibleUntil).toBeDefined();
    const kept = await entries("job-1");
    expect(kept.map((e) => [e.key, e.kind])).toEqual([
      [["A"], "updated"],
      [["B"], "inserted"],
    ]);
    expect(kept[0]!.before).toEqual(seeded);
    // The change time the job's write set, to tell later changes from it.
    expect(kept[0]!.changedAt).toEqual((await courses().findOne({ code: "A" }))!.updatedAt);
    expect(await t.db.collection(BEFORE_IMAGES).countDocuments({ jobId: { $ne: "job-1" } })).toBe(0);
  });

  it("are not remembered when dry runs, unchanged, skipped or refused", async () => {
    await write(Entity.COURSES, [courseRecord("A")]);
    await write(Entity.COURSES, [courseRecord("D")], { dryRun: true, jobId: "job-dry" });
    await write(Entity.COURSES, [courseRecord("A")], { mode: WriteMode.UPSERT, jobId: "job-same" });
    await write(Entity.COURSES, [courseRecord("A", { title: "x" })], { mode: WriteMode.SKIP_EXISTING, jobId: "job-skip" });
    const refused = await write(Entity.COURSES, [courseRecord("A", { title: "y" })], { mode: WriteMode.INSERT, jobId: "job-refused" });
    expect(refused.failed).toBe(1);
    expect(await t.db.collection(BEFORE_IMAGES).countDocuments({})).toBe(0);
  });

  it("keep the first before-image of a record the job writes twice, with the change time of its last write", async () => {
    await write(Entity.COURSES, [courseRecord("A", { title: "Original" })]);
    await write(Entity.COURSES, [courseRecord("A", { title: "First" })], { mode: WriteMode.UPSERT, jobId: "job-2" });
    await write(Entity.COURSES, [courseRecord("A", { title: "Second" })], { mode: WriteMode.UPSERT, ordered: true, jobId: "job-2" });
    const [entry] = await entries("job-2");
    expect(entry!.before.title).toBe("Original");
    expect(entry!.changedAt).toEqual((await courses().findOne({ code: "A" }))!.updatedAt);
    expect(await revert(Entity.COURSES, "job-2")).toMatchObject({ restored: 1, refused: 0 });
    expect((await courses().findOne({ code: "A" }))!.title).toBe("Original");
  });
});

describe("how long a job's writes stay revertible", () => {
  it("is RECORDS_REVERT_RETENTION_DAYS, 30 by default; a value that is not a positive number of days is refused at start", () => {
    const base = { MONGODB_URI: "mongodb://127.0.0.1:1/" };
    expect(loadRecordsConfig(base).RECORDS_REVERT_RETENTION_DAYS).toBe(30);
    expect(loadRecordsConfig({ ...base, RECORDS_REVERT_RETENTION_DAYS: "0.5" }).RECORDS_REVERT_RETENTION_DAYS).toBe(0.5);
    for (const bad of ["0", "-1", "thirty"]) expect(() => loadRecordsConfig({ ...base, RECORDS_REVERT_RETENTION_DAYS: bad }), bad).toThrow(/RECORDS_REVERT_RETENTION_DAYS/);
  });

  it("is what each answer's revertible_until and each entry's expiry say", async () => {
    service = asServed(new RecordsService(t.db, undefined, undefined, { revertRetentionMs: 60_000 }));
    const before = Date.now();
    const answer = await write(Entity.COURSES, [courseRecord("TTL-1")], { jobId: "job-ttl" });
    const until = timestampDate(answer.revertibleUntil!).getTime();
    expect(until).toBeGreaterThanOrEqual(before + 60_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 60_000);
    expect((await entries("job-ttl"))[0]!.expiresAt.getTime()).toBe(until);
    expect((await write(Entity.COURSES, [courseRecord("TTL-2")])).revertibleUntil).toBeUndefined();
  });
});

describe("reverting a job's writes", () => {
  it("deletes what it inserted, leaving tombstones, on the insert path", async () => {
    await write(Entity.COURSES, [courseRecord("A"), courseRecord("B")], { jobId: "job-ins" });
    const result = await revert(Entity.COURSES, "job-ins");
    expect(result).toMatchObject({ deleted: 2, restored: 0, refused: 0 });
    expect(await courses().countDocuments({})).toBe(0);
    expect((await t.db.collection(TOMBSTONES).find({ entity: "courses" }).toArray()).map((d) => d.key)).toEqual(expect.arrayContaining([["A"], ["B"]]));
  });

  it("puts back exactly what an optimistic upsert replaced, and deletes what it inserted (records refused as inserts, replanned)", async () => {
    await write(Entity.USERS, [userRecord(1, { password: "first-password" }), userRecord(2)]);
    const before = await users().find({}).sort({ email: 1 }).toArray();
    // Unordered upsert: every record is first sent as an insert; the existing ones are refused and replanned.
    const upsert = await write(Entity.USERS, [userRecord(1, { firstName: "Changed", password: "second-password" }), userRecord(2, { lastName: "Renamed" }), userRecord(3)], {
      mode: WriteMode.UPSERT,
      jobId: "job-up",
    });
    expect(upsert).toMatchObject({ inserted: 1, updated: 2 });
    expect((await entries("job-up")).map((e) => e.kind)).toEqual(["updated", "updated", "inserted"]);
    const startedRevert = new Date();
    expect(await revert(Entity.USERS, "job-up")).toMatchObject({ restored: 2, deleted: 1, refused: 0 });
    const after = await users().find({}).sort({ email: 1 }).toArray();
    // Every field as before, the password hash and _id included; only the change time is new.
    expect(after.map(withoutChangeTime)).toEqual(before.map(withoutChangeTime));
    expect(after[0]!.passwordHash).toBe(before[0]!.passwordHash);
    for (const doc of after) expect((doc.updatedAt as Date).getTime()).toBeGreaterThanOrEqual(startedRevert.getTime());
  });

  it("puts back what an ordered upsert and a merge changed (the look-up paths)", async () => {
    await write(Entity.COURSES, [courseRecord("A", { description: "kept" }), courseRecord("B")]);
    const before = await courses().find({}).sort({ code: 1 }).toArray();
    await write(Entity.COURSES, [courseRecord("A", { title: "Ordered" })], { mode: WriteMode.UPSERT, ordered: true, jobId: "job-ord" });
    await write(Entity.COURSES, [courseRecord("B", { title: "Merged" })], { mode: WriteMode.MERGE, jobId: "job-merge" });
    expect(await revert(Entity.COURSES, "job-ord")).toMatchObject({ restored: 1 });
    expect(await revert(Entity.COURSES, "job-merge")).toMatchObject({ restored: 1 });
    expect((await courses().find({}).sort({ code: 1 }).toArray()).map(withoutChangeTime)).toEqual(before.map(withoutChangeTime));
  });

  it("refuses a record changed since the import, with the reason, and leaves it as it is", async () => {
    await write(Entity.COURSES, [courseRecord("A")]);
    await write(Entity.COURSES, [courseRecord("A", { title: "By the import" }), courseRecord("N")], { mode: WriteMode.UPSERT, jobId: "job-ch" });
    await new Promise((r) => setTimeout(r, 5));
    await write(Entity.COURSES, [courseRecord("A", { title: "Edited later" }), courseRecord("N", { title: "Also edited" })], { mode: WriteMode.UPSERT });
    const result = await revert(Entity.COURSES, "job-ch");
    expect(result).toMatchObject({ restored: 0, deleted: 0, refused: 2 });
    expect(result.refusals).toEqual([
      { key: ["A"], reason: "changed since the import", code: "changed" },
      { key: ["N"], reason: "changed since the import", code: "changed" },
    ]);
    expect((await courses().findOne({ code: "A" }))!.title).toBe("Edited later");
    expect(await courses().countDocuments({ code: "N" })).toBe(1);
  });

  it("refuses to delete an inserted record other records reference", async () => {
    await write(Entity.USERS, [userRecord(5)], { jobId: "job-ref" });
    await write(Entity.COURSES, [courseRecord("C")]);
    await write(Entity.ENROLLMENTS, [enrollmentRecord("user5", "C")]);
    const result = await revert(Entity.USERS, "job-ref");
    expect(result.refusals).toEqual([{ key: ["user5@example.org"], reason: 'enrollments still reference it by userId "user5"', code: "referenced" }]);
    expect(await users().countDocuments({ username: "user5" })).toBe(1);
  });

  it("refuses to remove entries of the append-only activity log, which it remembered by their server-assigned id", async () => {
    await write(Entity.USERS, [userRecord(1)]);
    const inserted = await write(Entity.ACTIVITY, [activityRecord("user1"), activityRecord("user1", { action: "submit" })], { jobId: "job-log" });
    expect(inserted.inserted).toBe(2);
    const ids = (await t.db.collection("activity").find({}).toArray()).map((d) => [d._id.toHexString()]);
    expect((await entries("job-log")).map((e) => e.key)).toEqual(expect.arrayContaining(ids));
    const result = await revert(Entity.ACTIVITY, "job-log");
    expect(result).toMatchObject({ deleted: 0, refused: 2 });
    expect(result.refusals.map((r) => r.code)).toEqual(["append_only", "append_only"]);
    expect(await t.db.collection("activity").countDocuments({})).toBe(2);
  });

  it("finds nothing to do for records already as they were, and nothing at all a second time", async () => {
    await write(Entity.COURSES, [courseRecord("A")], { jobId: "job-twice" });
    await courses().deleteOne({ code: "A" });
    expect(await revert(Entity.COURSES, "job-twice")).toMatchObject({ unchanged: 1, deleted: 0, refused: 0 });
    expect(await revert(Entity.COURSES, "job-twice")).toMatchObject({ unchanged: 0, deleted: 0, refused: 0 });
  });

  it("refuses records whose before-images expired, and the purge removes them", async () => {
    await write(Entity.USERS, [userRecord(1)]);
    await write(Entity.COURSES, [courseRecord("C")]);
    await write(Entity.SESSIONS, [sessionRecord("s1", "user1", "C")], { jobId: "job-old" });
    await t.db.collection(BEFORE_IMAGES).updateMany({ jobId: "job-old" }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    const result = await revert(Entity.SESSIONS, "job-old");
    expect(result).toMatchObject({ deleted: 0, refused: 1 });
    expect(result.refusals[0]).toMatchObject({ key: ["s1"], code: "expired" });
    expect(await purgeExpiredBeforeImages(t.db)).toBe(1);
    expect(await entries("job-old")).toEqual([]);
  });

  it("refuses a job id that is not one", async () => {
    await expect(collect(service.revertWrites(create(RevertWritesRequestSchema, { jobId: " ", entity: Entity.COURSES }), forJob()))).rejects.toThrow(/job_id/);
  });
});
