/**
 * Tier 1: what RevertWrites stands on, on the real FerretDB — every write
 * path of the batch writer remembers what a job's writes replaced, and a
 * revert puts records back, deletes what the job inserted, and refuses (with
 * a reason, leaving the record as it is) what changed since or is referenced.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import type { Document } from "mongodb";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { loadRecordsConfig } from "../../services/records/config.js";
import { RecordsService } from "../../services/records/records-service.js";
import { TOMBSTONES } from "../../services/records/store/change-tracking.js";
import { BEFORE_IMAGES, batchKeys, purgeExpiredBeforeImages, type InsertedBatchDocument } from "../../services/records/store/before-images.js";
import { REVERT_PAGE, revertWrites } from "../../services/records/store/revert-writes.js";
import { ENTITIES } from "../../services/domain/index.js";
import { Entity, RevertWritesRequestSchema, WriteMode, type RevertWritesResponse } from "../../gen/dataexchange/records/v1/records_pb.js";
import { openTestDatabase, type TestDatabase } from "../support/database.js";
import { asServed } from "../support/served-records-service.js";
import { activityRecord, collect, courseRecord, emptyRecordsDatabase, enrollmentRecord, forJob, fromArray, sessionRecord, userRecord, writeRequest } from "./fixtures.js";

let t: TestDatabase;
let service: RecordsService;

beforeAll(async () => {
  t = await openTestDatabase("revert_writes");
});
afterAll(async () => t?.close());
beforeEach(async () => {
  await emptyRecordsDatabase(t.db);
  service = asServed(new RecordsService(t.db));
});

async function write(entity: Entity, records: Parameters<typeof writeRequest>[1], options: Parameters<typeof writeRequest>[2] & { jobId?: string } = {}) {
  const { jobId, ...request } = options;
  const [result] = await collect(service.writeRecords(fromArray([writeRequest(entity, records, { mode: WriteMode.INSERT, ...request })]), forJob(jobId)));
  return result!;
}

/** One WriteRecords stream of several batches (unordered inserts) for job `jobId`, as the transfer service sends an import. */
async function writeBatches(entity: Entity, batches: string[][], jobId: string) {
  const requests = batches.map((codes, i) =>
    writeRequest(
      entity,
      codes.map((code) => courseRecord(code)),
      { batchId: `b${i}` },
    ),
  );
  return collect(service.writeRecords(fromArray(requests), forJob(jobId)));
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
/** The keys an inserted batch's entry (a raw document) holds. */
const keysOf = (entry: Document) => batchKeys(entry as InsertedBatchDocument);
const entries = (jobId: string) => t.db.collection(BEFORE_IMAGES).find({ jobId }).sort({ _id: 1 }).toArray();
/** A stored document without its change time, which a revert sets anew. */
const withoutChangeTime = ({ updatedAt: _u, ...doc }: Document) => doc;

describe("a job's writes", () => {
  it("are remembered: an update's before-image per record, a batch's inserts in one entry of their keys, and only with a job id", async () => {
    await write(Entity.COURSES, [courseRecord("A")]);
    const seeded = await courses().findOne({ code: "A" });
    const answer = await write(Entity.COURSES, [courseRecord("A", { title: "New" }), courseRecord("B"), courseRecord("C")], { mode: WriteMode.UPSERT, jobId: "job-1" });
    expect(answer.revertibleUntil).toBeDefined();
    const kept = await entries("job-1");
    expect(kept.map((e) => [e.kind, e.key ?? keysOf(e)])).toEqual(
      expect.arrayContaining([
        ["updated", ["A"]],
        ["inserted", ["B", "C"]],
      ]),
    );
    expect(kept).toHaveLength(2);
    const updated = kept.find((e) => e.kind === "updated")!;
    expect(updated.before).toEqual(seeded);
    // The change time the job's write set, to tell later changes from it.
    expect(updated.changedAt).toEqual((await courses().findOne({ code: "A" }))!.updatedAt);
    expect(kept.find((e) => e.kind === "inserted")!.changedAt).toEqual((await courses().findOne({ code: "B" }))!.updatedAt);
    expect(await t.db.collection(BEFORE_IMAGES).countDocuments({ jobId: { $ne: "job-1" } })).toBe(0);
  });

  it("leave out of a batch's entry the keys of inserts the database refused", async () => {
    await write(Entity.COURSES, [courseRecord("A")]);
    // Unordered inserts: the unique index refuses A, B and C land.
    const answer = await write(Entity.COURSES, [courseRecord("B"), courseRecord("A", { title: "Again" }), courseRecord("C")], { jobId: "job-refused-key" });
    expect(answer).toMatchObject({ inserted: 2, failed: 1 });
    expect((await entries("job-refused-key")).map((e) => keysOf(e))).toEqual([["B", "C"]]);
    // An optimistic upsert's refused inserts are replanned as updates: remembered as those, not as inserts.
    await write(Entity.COURSES, [courseRecord("A", { title: "Upserted" }), courseRecord("D")], { mode: WriteMode.UPSERT, jobId: "job-replan" });
    const replanned = await entries("job-replan");
    expect(replanned.map((e) => [e.kind, e.key ?? keysOf(e)])).toEqual(
      expect.arrayContaining([
        ["updated", ["A"]],
        ["inserted", ["D"]],
      ]),
    );
    expect(await revert(Entity.COURSES, "job-replan")).toMatchObject({ restored: 1, deleted: 1, refused: 0 });
    expect((await courses().findOne({ code: "A" }))!.title).toBe("Course A");
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
  it("revert a record the job inserted and then wrote again to none: it is deleted", async () => {
    await write(Entity.COURSES, [courseRecord("A", { title: "Inserted" })], { jobId: "job-3" });
    await new Promise((r) => setTimeout(r, 5));
    // Ordered, so the look-up path replaces it: an update entry whose before-image is the job's own insert.
    await write(Entity.COURSES, [courseRecord("A", { title: "Rewritten" })], { mode: WriteMode.UPSERT, ordered: true, jobId: "job-3" });
    expect((await entries("job-3")).map((e) => e.kind).sort()).toEqual(["inserted", "updated"]);
    expect(await revert(Entity.COURSES, "job-3")).toMatchObject({ deleted: 1, restored: 0, unchanged: 0, refused: 0 });
    expect(await courses().countDocuments({})).toBe(0);
  });

  it("revert a record the job inserted twice (deleted by someone else in between) once, as the job's", async () => {
    await write(Entity.COURSES, [courseRecord("A")], { jobId: "job-4" });
    await courses().deleteOne({ code: "A" });
    await new Promise((r) => setTimeout(r, 5));
    await write(Entity.COURSES, [courseRecord("A", { title: "Again" })], { jobId: "job-4" });
    expect(await revert(Entity.COURSES, "job-4")).toMatchObject({ deleted: 1, unchanged: 0, refused: 0 });
    expect(await courses().countDocuments({})).toBe(0);
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
    expect((await entries("job-up")).map((e) => e.kind).sort()).toEqual(["inserted", "updated", "updated"]);
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
    expect((await entries("job-log")).flatMap((e) => keysOf(e).map((k) => [k]))).toEqual(expect.arrayContaining(ids));
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

  it("keep a batch's keys in one string, which FerretDB stores for less than an array of them", async () => {
    await write(Entity.COURSES, [courseRecord("A"), courseRecord("B")], { jobId: "job-packed" });
    const [entry] = await entries("job-packed");
    expect(entry).toMatchObject({ kind: "inserted", packedKeys: JSON.stringify(["A", "B"]) });
    expect(entry).not.toHaveProperty("keys");
  });

  it("deletes the records of a job remembered by an earlier version, whose batch entries list their keys in an array", async () => {
    await writeBatches(Entity.COURSES, [["A", "B"], ["C"]], "job-legacy");
    for (const entry of await entries("job-legacy")) {
      await t.db.collection(BEFORE_IMAGES).updateOne({ _id: entry._id }, { $set: { keys: keysOf(entry) }, $unset: { packedKeys: "" } });
    }
    expect((await entries("job-legacy")).map((e) => [e.keys, e.packedKeys])).toEqual([
      [["A", "B"], undefined],
      [["C"], undefined],
    ]);
    expect(await revert(Entity.COURSES, "job-legacy")).toMatchObject({ deleted: 3, unchanged: 0, refused: 0 });
    expect(await courses().countDocuments({})).toBe(0);
  });

  it("deletes every record of an insert import written in several batches, more than a revert page (200) in all", async () => {
    const codes = Array.from({ length: 450 }, (_, i) => `C${String(i).padStart(4, "0")}`);
    const answers = await writeBatches(Entity.COURSES, [codes.slice(0, 180), codes.slice(180, 360), codes.slice(360)], "job-big");
    expect(answers.map((a) => a.inserted)).toEqual([180, 180, 90]);
    // One entry per batch, not one per record.
    expect((await entries("job-big")).map((e) => keysOf(e).length)).toEqual([180, 180, 90]);
    expect(await revert(Entity.COURSES, "job-big")).toMatchObject({ deleted: 450, unchanged: 0, refused: 0 });
    expect(await courses().countDocuments({})).toBe(0);
    expect(await t.db.collection(TOMBSTONES).countDocuments({ entity: "courses" })).toBe(450);
    expect(await revert(Entity.COURSES, "job-big")).toMatchObject({ deleted: 0, unchanged: 0, refused: 0 });
  });

  it("settles what a revert cut off part-way or refused, so that running it again goes on with the rest", async () => {
    const codes = Array.from({ length: 450 }, (_, i) => `P${String(i).padStart(3, "0")}`);
    await writeBatches(Entity.COURSES, [codes.slice(0, 250), codes.slice(250)], "job-part");
    await write(Entity.USERS, [userRecord(1)]);
    await write(Entity.ENROLLMENTS, [enrollmentRecord("user1", "P300")]);
    // Cut off after its first page (a lost connection, a cancel).
    const stop = new AbortController();
    let first = 0;
    await expect(
      (async () => {
        for await (const page of revertWrites(t.db, ENTITIES.courses, "job-part", stop.signal)) {
          first += page.deleted;
          stop.abort();
        }
      })(),
    ).rejects.toThrow();
    expect(first).toBe(REVERT_PAGE);
    expect(await courses().countDocuments({})).toBe(450 - REVERT_PAGE);
    // Run again: the rest, less the referenced record.
    const second = await revert(Entity.COURSES, "job-part");
    expect(second).toMatchObject({ deleted: 450 - REVERT_PAGE - 1, unchanged: 0, refused: 1 });
    expect(second.refusals).toEqual([{ key: ["P300"], code: "referenced", reason: 'enrollments still reference it by courseId "P300"' }]);
    // Once nothing references it, a third run deletes it, and only it.
    await t.db.collection("enrollments").deleteMany({});
    expect(await revert(Entity.COURSES, "job-part")).toMatchObject({ deleted: 1, unchanged: 0, refused: 0 });
    expect(await courses().countDocuments({})).toBe(0);
  });

  it("refuses a job id that is not one", async () => {
    await expect(collect(service.revertWrites(create(RevertWritesRequestSchema, { jobId: " ", entity: Entity.COURSES }), forJob()))).rejects.toThrow(/job_id/);
  });
});
