/**
 * Tier 1: the RecordsService class called directly, against the real FerretDB
 * (through the server's error-mapping interceptor: served-records-service.ts).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { RecordsService } from "../../services/records/records-service.js";
import { ensureIndexes } from "../../services/records/store/collections.js";
import { openCursorCount } from "../../services/records/store/record-reader.js";
import { JOIN_FIELDS, MAX_JOINED_ACTIVITIES } from "../../services/records/store/session-joins.js";
import { verifyPassword } from "../../services/records/password-hash.js";
import {
  CountRecordsRequestSchema,
  DeleteRecordRequestSchema,
  DescribeEntityRequestSchema,
  Entity,
  FieldViolationsSchema,
  GetRecordRequestSchema,
  Join,
  PutRecordRequestSchema,
  StreamRecordsRequestSchema,
  WriteMode,
  WriteOutcome,
} from "../../gen/dataexchange/records/v1/records_pb.js";
import { openTestDatabase, type TestDatabase } from "../support/database.js";
import { asServed } from "../support/served-records-service.js";
import { activityRecord, collect, courseRecord, enrollmentRecord, fromArray, handlerContext, sessionRecord, ts, userRecord, writeRequest } from "./fixtures.js";

let t: TestDatabase;
let service: RecordsService;

beforeAll(async () => {
  t = await openTestDatabase("records_class");
});
afterAll(async () => t?.close());
beforeEach(async () => {
  await t.db.dropDatabase();
  await ensureIndexes(t.db);
  service = asServed(new RecordsService(t.db));
});

async function write(...requests: Parameters<typeof writeRequest>[]) {
  return collect(service.writeRecords(fromArray(requests.map((r) => writeRequest(...r))), handlerContext()));
}

async function stream(init: Parameters<typeof create<typeof StreamRecordsRequestSchema>>[1]) {
  const responses = await collect(service.streamRecords(create(StreamRecordsRequestSchema, init), handlerContext()));
  return responses.flatMap((r) => r.records.map((rec) => rec.kind.value as Record<string, unknown>));
}

async function seedBasics() {
  await write([Entity.USERS, [userRecord(1), userRecord(2)]], [Entity.COURSES, [courseRecord("C1"), courseRecord("C2")]]);
}

describe("writing records in batches", () => {
  it("inserts new records and reports one result per batch", async () => {
    const [users, courses] = await write([Entity.USERS, [userRecord(1), userRecord(2)], { batchId: "u" }], [Entity.COURSES, [courseRecord("C1")], { batchId: "c" }]);
    expect(users).toMatchObject({ batchId: "u", inserted: 2, failed: 0 });
    expect(courses).toMatchObject({ batchId: "c", inserted: 1, failed: 0 });
    expect(await t.db.collection("users").countDocuments()).toBe(2);
  });

  it("refuses an existing key in insert mode but writes the rest of an unordered batch", async () => {
    await write([Entity.USERS, [userRecord(1)]]);
    const [result] = await write([Entity.USERS, [userRecord(2), userRecord(1), userRecord(3)]]);
    expect(result).toMatchObject({ inserted: 2, failed: 1 });
    expect(result!.errors).toHaveLength(1);
    expect(result!.errors[0]).toMatchObject({ index: 1, code: "exists", field: "email" });
    expect(result!.errors[0]!.reason).toContain("user1@example.org");
  });

  it("stops an ordered batch at the first failure and reports the rest as not attempted", async () => {
    await write([Entity.USERS, [userRecord(1)]]);
    const [result] = await write([Entity.USERS, [userRecord(2), userRecord(1), userRecord(3)], { ordered: true }]);
    expect(result).toMatchObject({ inserted: 1, failed: 2 });
    expect(result!.errors.map((e) => [e.index, e.code])).toEqual([
      [1, "exists"],
      [2, "not_attempted"],
    ]);
    expect(await t.db.collection("users").countDocuments({ username: "user3" })).toBe(0);
  });

  it("replaces by natural key in upsert mode and counts unchanged records", async () => {
    await write([Entity.USERS, [userRecord(1), userRecord(2)]]);
    const [result] = await write([Entity.USERS, [userRecord(1, { lastName: "Lovelace" }), userRecord(2), userRecord(3)], { mode: WriteMode.UPSERT }]);
    expect(result).toMatchObject({ inserted: 1, updated: 1, unchanged: 1, failed: 0 });
    const stored = await t.db.collection("users").findOne({ email: "user1@example.org" });
    expect(stored?.lastName).toBe("Lovelace");
    expect(stored?.createdAt).toBeInstanceOf(Date);
  });

  it("sorts a mixed unordered upsert batch into inserted, updated, unchanged and refused records, each at its index", async () => {
    await write([Entity.USERS, [userRecord(1), userRecord(2)]]);
    const created = (await t.db.collection("users").findOne({ username: "user1" }))!.createdAt as Date;
    const [result] = await write([
      Entity.USERS,
      [userRecord(1, { lastName: "Lovelace" }), userRecord(2), userRecord(3), userRecord(4, { username: "user1" }), userRecord(5)],
      { mode: WriteMode.UPSERT },
    ]);
    expect(result).toMatchObject({ inserted: 2, updated: 1, unchanged: 1, failed: 1 });
    expect(result!.errors).toEqual([expect.objectContaining({ index: 3, code: "duplicate_key", field: "username" })]);
    const stored = await t.db
      .collection("users")
      .find({}, { sort: { username: 1 } })
      .toArray();
    expect(stored.map((u) => [u.username, u.lastName])).toEqual([
      ["user1", "Lovelace"],
      ["user2", "Number 2"],
      ["user3", "Number 3"],
      ["user5", "Number 5"],
    ]);
    expect(stored[0]!.createdAt).toEqual(created);
  });

  it("sets only the given fields in merge mode", async () => {
    await write([Entity.COURSES, [courseRecord("C1", { description: "keep me", category: "math" })]]);
    const [result] = await write([Entity.COURSES, [courseRecord("C1", { title: undefined, category: "physics" })], { mode: WriteMode.MERGE }]);
    expect(result).toMatchObject({ updated: 1, failed: 0 });
    const stored = await t.db.collection("courses").findOne({ code: "C1" });
    expect(stored).toMatchObject({ title: "Course C1", description: "keep me", category: "physics" });
  });

  it("requires the full record when merge creates a new one", async () => {
    const [result] = await write([Entity.COURSES, [courseRecord("NEW", { title: undefined })], { mode: WriteMode.MERGE }]);
    expect(result!.errors[0]).toMatchObject({ index: 0, field: "title", reason: "is required", code: "invalid" });
  });

  it("skips existing records in skip-existing mode", async () => {
    await write([Entity.USERS, [userRecord(1, { lastName: "Original" })]]);
    const [result] = await write([Entity.USERS, [userRecord(1, { lastName: "Changed" }), userRecord(2)], { mode: WriteMode.SKIP_EXISTING }]);
    expect(result).toMatchObject({ inserted: 1, skipped: 1, failed: 0 });
    expect((await t.db.collection("users").findOne({ username: "user1" }))?.lastName).toBe("Original");
  });

  it("reports what would happen in a dry run and writes nothing", async () => {
    await write([Entity.USERS, [userRecord(1)]]);
    const [result] = await write([Entity.USERS, [userRecord(1, { lastName: "X" }), userRecord(2), userRecord(3, { email: "bad" })], { mode: WriteMode.UPSERT, dryRun: true }]);
    expect(result).toMatchObject({ dryRun: true, inserted: 1, updated: 1, failed: 1 });
    expect(await t.db.collection("users").countDocuments()).toBe(1);
  });

  it("names in a dry run the records that would change nothing, by their index in the batch, and none in a real write", async () => {
    await write([Entity.USERS, [userRecord(1), userRecord(2), userRecord(4)]]);
    // Index 1 is of the wrong entity: it fails on its own, and the indexes after it still name their records.
    const batch = [userRecord(1), courseRecord("C1"), userRecord(2, { lastName: "Changed" }), userRecord(3), userRecord(4)];
    const [upsert] = await write([Entity.USERS, batch, { mode: WriteMode.UPSERT, dryRun: true }]);
    expect(upsert).toMatchObject({ unchanged: 2, updated: 1, inserted: 1, failed: 1, noOpIndexes: [0, 4] });
    const [skip] = await write([Entity.USERS, batch, { mode: WriteMode.SKIP_EXISTING, dryRun: true }]);
    expect(skip).toMatchObject({ skipped: 3, inserted: 1, failed: 1, noOpIndexes: [0, 2, 4] });
    const [real] = await write([Entity.USERS, batch, { mode: WriteMode.UPSERT }]);
    expect(real).toMatchObject({ unchanged: 2, updated: 1, inserted: 1, noOpIndexes: [] });
  });

  it("reports a key repeated inside one batch on the later record", async () => {
    const [result] = await write([Entity.USERS, [userRecord(1), userRecord(1, { username: "other" })]]);
    expect(result).toMatchObject({ inserted: 1, failed: 1 });
    expect(result!.errors[0]).toMatchObject({ index: 1, code: "duplicate_key" });
  });

  it("refuses a username already used by another user", async () => {
    await write([Entity.USERS, [userRecord(1)]]);
    const [result] = await write([Entity.USERS, [userRecord(2, { username: "user1" })]]);
    expect(result!.errors[0]).toMatchObject({ index: 0, code: "duplicate_key", field: "username" });
  });

  it("checks that a session's user and course exist, with one error per missing reference", async () => {
    await seedBasics();
    const [result] = await write([Entity.SESSIONS, [sessionRecord("s1", "user1", "C1"), sessionRecord("s2", "ghost", "C1"), sessionRecord("s3", "user2", "NOPE")]]);
    expect(result).toMatchObject({ inserted: 1, failed: 2 });
    expect(result!.errors.map((e) => [e.index, e.field, e.code])).toEqual([
      [1, "userId", "missing_reference"],
      [2, "courseId", "missing_reference"],
    ]);
    expect(result!.errors[0]!.reason).toBe('no user with username "ghost"');
  });

  it("checks hundreds of distinct references per batch by loading the target's keys once", async () => {
    await write([Entity.USERS, Array.from({ length: 300 }, (_, i) => userRecord(`r${i}`))], [Entity.COURSES, [courseRecord("C1")]]);
    const sessions = Array.from({ length: 320 }, (_, i) => sessionRecord(`ref${i}`, `userr${i}`, "C1"));
    const [first, second] = await write([Entity.SESSIONS, sessions.slice(0, 310)], [Entity.SESSIONS, sessions.slice(310)]);
    expect(first).toMatchObject({ inserted: 300, failed: 10 });
    expect(first!.errors.every((e) => e.code === "missing_reference" && e.field === "userId")).toBe(true);
    expect(first!.errors[0]!.reason).toBe('no user with username "userr300"');
    expect(second).toMatchObject({ inserted: 0, failed: 10 });
  });

  it("hashes passwords with scrypt and never returns them", async () => {
    const [result] = await write([Entity.USERS, [userRecord(1, { password: "correct horse battery" })]]);
    expect(result!.inserted).toBe(1);
    const stored = await t.db.collection("users").findOne({ username: "user1" });
    expect(stored?.password).toBeUndefined();
    expect(stored?.passwordHash).toMatch(/^scrypt\$/);
    expect(await verifyPassword("correct horse battery", stored!.passwordHash)).toBe(true);
    expect(await verifyPassword("wrong", stored!.passwordHash)).toBe(false);
    const streamed = await stream({ entity: Entity.USERS });
    expect(JSON.stringify(streamed, (_k, v) => (typeof v === "bigint" ? String(v) : v))).not.toContain("scrypt");
    expect(streamed[0]!.password).toBeUndefined();
    const got = await service.getRecord(create(GetRecordRequestSchema, { entity: Entity.USERS, key: { parts: ["user1@example.org"] } }));
    expect((got.record?.kind.value as Record<string, unknown>).password).toBeUndefined();
  });

  it("keeps the password hash when an upsert does not give a new password", async () => {
    await write([Entity.USERS, [userRecord(1, { password: "first password" })]]);
    const before = (await t.db.collection("users").findOne({ username: "user1" }))!.passwordHash;
    await write([Entity.USERS, [userRecord(1, { lastName: "Renamed" })], { mode: WriteMode.UPSERT }]);
    expect((await t.db.collection("users").findOne({ username: "user1" }))!.passwordHash).toBe(before);
  });

  it("reports an upsert that sends the stored password again as unchanged, checked against the scrypt hash, and a new one as updated", async () => {
    await write([Entity.USERS, [userRecord(1, { password: "first password" })]]);
    const before = (await t.db.collection("users").findOne({ username: "user1" }))!.passwordHash;
    for (const dryRun of [true, false]) {
      const [same] = await write([Entity.USERS, [userRecord(1, { password: "first password" })], { mode: WriteMode.UPSERT, dryRun }]);
      expect(same, `dry run: ${dryRun}`).toMatchObject({ unchanged: 1, updated: 0, failed: 0 });
    }
    expect((await t.db.collection("users").findOne({ username: "user1" }))!.passwordHash).toBe(before);
    const [changed] = await write([Entity.USERS, [userRecord(1, { password: "second password" })], { mode: WriteMode.UPSERT }]);
    expect(changed).toMatchObject({ unchanged: 0, updated: 1 });
    const after = (await t.db.collection("users").findOne({ username: "user1" }))!.passwordHash;
    expect(await verifyPassword("second password", after)).toBe(true);
    // The same password with another field changed: updated, and the hash is kept as it is.
    const [renamed] = await write([Entity.USERS, [userRecord(1, { password: "second password", lastName: "Renamed" })], { mode: WriteMode.MERGE }]);
    expect(renamed).toMatchObject({ updated: 1 });
    expect((await t.db.collection("users").findOne({ username: "user1" }))!.passwordHash).toBe(after);
  });

  it("restores activity entries under their ids: again the same is unchanged, with other values it is refused", async () => {
    await write([Entity.USERS, [userRecord(1)]]);
    const id = "65a1b2c3d4e5f60718293a4b";
    const [first] = await write([Entity.ACTIVITY, [activityRecord("user1", { id }), activityRecord("user1")]]);
    expect(first).toMatchObject({ inserted: 2, failed: 0 });
    expect((await t.db.collection("activity").findOne({ action: "view", userId: "user1" }, { sort: { _id: 1 } }))!._id.toHexString()).toBe(id);
    for (const dryRun of [true, false]) {
      const [again] = await write([Entity.ACTIVITY, [activityRecord("user1", { id: id.toUpperCase() })], { dryRun }]);
      expect(again, `dry run: ${dryRun}`).toMatchObject({ inserted: 0, unchanged: 1, failed: 0 });
    }
    const [edited] = await write([Entity.ACTIVITY, [activityRecord("user1", { id, action: "edit" })]]);
    expect(edited).toMatchObject({ failed: 1 });
    expect(edited!.errors[0]).toMatchObject({ field: "id", code: "exists" });
    expect(edited!.errors[0]!.reason).toContain("(action)");
    expect(await t.db.collection("activity").countDocuments()).toBe(2);
    const [twice] = await write([Entity.ACTIVITY, [activityRecord("user1", { id: "65a1b2c3d4e5f60718293a4c" }), activityRecord("user1", { id: "65a1b2c3d4e5f60718293a4c" })]]);
    expect(twice).toMatchObject({ inserted: 1, failed: 1 });
    expect(twice!.errors[0]).toMatchObject({ code: "duplicate_key" });
  });

  it("keeps the activity log append-only", async () => {
    await expect(write([Entity.ACTIVITY, [], { mode: WriteMode.UPSERT }])).rejects.toMatchObject({ code: Code.FailedPrecondition });
  });

  it("refuses a record of the wrong entity on its own", async () => {
    const [result] = await write([Entity.USERS, [userRecord(1), courseRecord("C1")]]);
    expect(result).toMatchObject({ inserted: 1, failed: 1 });
    expect(result!.errors[0]!.reason).toContain("course");
  });

  it("refuses a batch without an entity or mode as INVALID_ARGUMENT", async () => {
    await expect(write([Entity.UNSPECIFIED, [userRecord(1)]])).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(write([Entity.USERS, [userRecord(1)], { mode: WriteMode.UNSPECIFIED }])).rejects.toMatchObject({ code: Code.InvalidArgument });
  });
});

describe("streaming records", () => {
  it("streams every record in batches of the requested size", async () => {
    await write([Entity.USERS, Array.from({ length: 25 }, (_, i) => userRecord(i))]);
    const responses = await collect(service.streamRecords(create(StreamRecordsRequestSchema, { entity: Entity.USERS, batchSize: 10 }), handlerContext()));
    expect(responses.map((r) => r.records.length)).toEqual([10, 10, 5]);
  });

  it("filters by key, status and time range, selects fields, sorts and limits", async () => {
    await seedBasics();
    await write([
      Entity.SESSIONS,
      [
        sessionRecord("s1", "user1", "C1", { startedAt: ts("2024-01-01T00:00:00Z"), status: "completed" }),
        sessionRecord("s2", "user1", "C2", { startedAt: ts("2024-02-01T00:00:00Z"), status: "active" }),
        sessionRecord("s3", "user2", "C1", { startedAt: ts("2024-03-01T00:00:00Z"), status: "completed" }),
      ],
    ]);
    expect((await stream({ entity: Entity.SESSIONS, filter: { userIds: ["user1"] } })).map((s) => s.sessionId).sort()).toEqual(["s1", "s2"]);
    expect((await stream({ entity: Entity.SESSIONS, filter: { statuses: ["completed"], courseIds: ["C1"] } })).length).toBe(2);
    expect((await stream({ entity: Entity.SESSIONS, filter: { keys: [{ parts: ["s3"] }, { parts: ["s1"] }] } })).length).toBe(2);
    const ranged = await stream({ entity: Entity.SESSIONS, filter: { timeRanges: [{ field: "startedAt", from: ts("2024-01-15T00:00:00Z"), to: ts("2024-03-01T00:00:00Z") }] } });
    expect(ranged.map((s) => s.sessionId)).toEqual(["s2"]);
    const sorted = await stream({ entity: Entity.SESSIONS, fields: ["sessionId", "score"], sort: [{ field: "startedAt", descending: true }], limit: 2n });
    expect(sorted.map((s) => s.sessionId)).toEqual(["s3", "s2"]);
    expect(sorted[0]!.userId).toBeUndefined();
    expect(sorted[0]!.score).toBe(71.5);
  });

  it("refuses to join more activity entries onto a session than a list carries, naming the session, rather than cut the list", async () => {
    await seedBasics();
    await write([Entity.SESSIONS, [sessionRecord("busy", "user1", "C1"), sessionRecord("calm", "user1", "C1")]]);
    const entries = (sessionId: string, n: number) => Array.from({ length: n }, () => activityRecord("user1", { sessionId, action: "view" }));
    await write([Entity.ACTIVITY, entries("busy", MAX_JOINED_ACTIVITIES), { batchId: "b1" }]);
    await write([Entity.ACTIVITY, entries("calm", 2), { batchId: "b2" }]);
    const full = await stream({ entity: Entity.SESSIONS, joins: [Join.ACTIVITY_IDS], sort: [{ field: "sessionId", descending: false }] });
    expect(full.map((s) => [s.sessionId, (s.activityIds as string[]).length])).toEqual([
      ["busy", MAX_JOINED_ACTIVITIES],
      ["calm", 2],
    ]);
    await write([Entity.ACTIVITY, entries("busy", 1), { batchId: "b3" }]);
    for (const joins of [[Join.ACTIVITY_IDS], [Join.ACTIVITIES]]) {
      const refused = await stream({ entity: Entity.SESSIONS, joins }).catch((e: unknown) => ConnectError.from(e));
      expect(refused).toMatchObject({ code: Code.FailedPrecondition, rawMessage: expect.stringContaining(`session "busy" has more than ${MAX_JOINED_ACTIVITIES} activity entries`) });
    }
    expect((await stream({ entity: Entity.SESSIONS, fields: ["sessionId", "activityIds"], filter: { keys: [{ parts: ["calm"] }] } }))[0]!.activityIds).toHaveLength(2);
  });

  it("joins a session's user, course and activity with batched look-ups", async () => {
    await seedBasics();
    await write([Entity.SESSIONS, [sessionRecord("s1", "user1", "C1"), sessionRecord("s2", "user2", "C2")]]);
    await write([Entity.ACTIVITY, [activityRecord("user1", { sessionId: "s1", action: "open" }), activityRecord("user1", { sessionId: "s1", action: "close", details: { page: 3, tags: ["a"] } })]]);
    const sessions = await stream({ entity: Entity.SESSIONS, joins: [Join.USER, Join.COURSE, Join.ACTIVITIES, Join.ACTIVITY_IDS], sort: [{ field: "sessionId", descending: false }] });
    expect(sessions[0]).toMatchObject({ userName: "Ada Number 1", userEmail: "user1@example.org", courseTitle: "Course C1" });
    expect(sessions[0]!.activityIds).toHaveLength(2);
    const activities = sessions[0]!.activities as { action: string; details?: unknown }[];
    expect(activities.map((a) => a.action).sort()).toEqual(["close", "open"]);
    expect(activities.find((a) => a.action === "close")!.details).toEqual({ page: 3, tags: ["a"] });
    expect(sessions[1]!.activityIds).toEqual([]);
  });

  it("joins only what the selected fields need and drops the helper fields", async () => {
    await seedBasics();
    await write([Entity.SESSIONS, [sessionRecord("s1", "user1", "C1")]]);
    const [s] = await stream({ entity: Entity.SESSIONS, fields: ["sessionId", "courseTitle"] });
    expect(s).toMatchObject({ sessionId: "s1", courseTitle: "Course C1" });
    expect(s!.courseId).toBeUndefined();
    expect(s!.userName).toBeUndefined();
  });

  it("refuses unknown fields, hidden fields and filters the entity does not have", async () => {
    await expect(stream({ entity: Entity.USERS, fields: ["passwordHash"] })).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(stream({ entity: Entity.USERS, fields: ["password"] })).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(stream({ entity: Entity.COURSES, filter: { statuses: ["active"] } })).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(stream({ entity: Entity.USERS, filter: { timeRanges: [{ field: "email" }] } })).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(stream({ entity: Entity.USERS, joins: [Join.USER] })).rejects.toMatchObject({ code: Code.InvalidArgument });
  });

  it("refuses a filter value a field of fixed values cannot hold, naming the values it has, instead of matching nothing", async () => {
    await write([Entity.USERS, [userRecord(1)]]);
    await expect(stream({ entity: Entity.USERS, filter: { statuses: ["active", "suspnded"] } })).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: 'cannot filter by users.status is one of active, suspended; no record has "suspnded"',
    });
    await expect(stream({ entity: Entity.ENROLLMENTS, filter: { roles: ["admin"] } })).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: expect.stringMatching(/^cannot filter by enrollments\.role is one of /),
    });
    expect(await stream({ entity: Entity.USERS, filter: { statuses: ["active", "suspended"] } })).toHaveLength(1);
  });

  it("closes the cursor when the consumer stops early", async () => {
    await write([Entity.USERS, Array.from({ length: 50 }, (_, i) => userRecord(i))]);
    const before = openCursorCount();
    const iterator = service.streamRecords(create(StreamRecordsRequestSchema, { entity: Entity.USERS, batchSize: 5 }), handlerContext())[Symbol.asyncIterator]();
    await iterator.next();
    expect(openCursorCount()).toBe(before + 1);
    await iterator.return?.(undefined);
    expect(openCursorCount()).toBe(before);
  });
});

describe("single-record operations", () => {
  it("puts, gets, counts and deletes a record by natural key", async () => {
    const put = await service.putRecord(create(PutRecordRequestSchema, { entity: Entity.USERS, mode: WriteMode.INSERT, record: userRecord(9) }));
    expect(put.outcome).toBe(WriteOutcome.INSERTED);
    const got = await service.getRecord(create(GetRecordRequestSchema, { entity: Entity.USERS, key: { parts: ["USER9@example.org"] } }));
    expect(got.record?.kind.value).toMatchObject({ username: "user9" });
    const count = await service.countRecords(create(CountRecordsRequestSchema, { entity: Entity.USERS, filter: { statuses: ["active"] } }));
    expect(count.count).toBe(1n);
    expect((await service.deleteRecord(create(DeleteRecordRequestSchema, { entity: Entity.USERS, key: { parts: ["user9@example.org"] } }))).deleted).toBe(true);
    await expect(service.getRecord(create(GetRecordRequestSchema, { entity: Entity.USERS, key: { parts: ["user9@example.org"] } }))).rejects.toMatchObject({ code: Code.NotFound });
  });

  it("maps a duplicate to ALREADY_EXISTS and invalid fields to INVALID_ARGUMENT with field details", async () => {
    await service.putRecord(create(PutRecordRequestSchema, { entity: Entity.USERS, mode: WriteMode.INSERT, record: userRecord(1) }));
    await expect(service.putRecord(create(PutRecordRequestSchema, { entity: Entity.USERS, mode: WriteMode.INSERT, record: userRecord(1) }))).rejects.toMatchObject({ code: Code.AlreadyExists });
    const error = await service.putRecord(create(PutRecordRequestSchema, { entity: Entity.USERS, mode: WriteMode.INSERT, record: userRecord(2, { email: "nope", role: "wizard" }) })).catch((e) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect(error.code).toBe(Code.InvalidArgument);
    const details = (error as ConnectError).findDetails(FieldViolationsSchema)[0]!;
    expect(details.violations.map((v) => v.field).sort()).toEqual(["email", "role"]);
    expect(error.message).toContain("role must be one of student, teacher, admin");
  });

  it("refuses to delete a user that sessions still reference", async () => {
    await seedBasics();
    await write([Entity.SESSIONS, [sessionRecord("s1", "user1", "C1")]]);
    await expect(service.deleteRecord(create(DeleteRecordRequestSchema, { entity: Entity.USERS, key: { parts: ["user1@example.org"] } }))).rejects.toMatchObject({ code: Code.FailedPrecondition });
  });

  it("addresses enrollments by their two-part key", async () => {
    await seedBasics();
    await write([Entity.ENROLLMENTS, [enrollmentRecord("user1", "C1"), enrollmentRecord("user1", "C2")]]);
    const got = await service.getRecord(create(GetRecordRequestSchema, { entity: Entity.ENROLLMENTS, key: { parts: ["user1", "C2"] } }));
    expect(got.record?.kind.value).toMatchObject({ userId: "user1", courseId: "C2" });
    await expect(service.getRecord(create(GetRecordRequestSchema, { entity: Entity.ENROLLMENTS, key: { parts: ["user1"] } }))).rejects.toMatchObject({ code: Code.InvalidArgument });
  });

  it("describes each entity's columns with labels, types and key parts", async () => {
    const users = await service.describeEntity(create(DescribeEntityRequestSchema, { entity: Entity.USERS }));
    expect(users.keyFields).toEqual(["email"]);
    const password = users.fields.find((f) => f.key === "password")!;
    expect(password).toMatchObject({ writeOnly: true, label: "Password" });
    expect(users.fields.find((f) => f.key === "email")).toMatchObject({ keyPart: true, required: true, personal: true, label: "Email address" });
    const enrollments = await service.describeEntity(create(DescribeEntityRequestSchema, { entity: Entity.ENROLLMENTS }));
    expect(enrollments.keyFields).toEqual(["userId", "courseId"]);
  });

  it("marks as joined exactly the fields its joins fill in, which a read without fields leaves out", async () => {
    const sessions = await service.describeEntity(create(DescribeEntityRequestSchema, { entity: Entity.SESSIONS }));
    const joined = sessions.fields.filter((f) => f.joined).map((f) => f.key);
    expect(joined.sort()).toEqual(Object.values(JOIN_FIELDS).flat().sort());
    for (const entity of [Entity.USERS, Entity.COURSES, Entity.ENROLLMENTS, Entity.ACTIVITY]) {
      expect((await service.describeEntity(create(DescribeEntityRequestSchema, { entity }))).fields.filter((f) => f.joined)).toEqual([]);
    }
    await seedBasics();
    await write([Entity.SESSIONS, [sessionRecord("s1", "user1", "C1")]]);
    const [plain] = await stream({ entity: Entity.SESSIONS });
    // Lists are never absent from a protobuf message: empty stands for not joined.
    expect(Object.fromEntries(joined.map((k) => [k, plain![k]]))).toEqual({ userName: undefined, userEmail: undefined, courseTitle: undefined, activityIds: [], activities: [] });
  });
});
