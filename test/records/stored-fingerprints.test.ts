/**
 * Re-imports of stored records decided from the stream's stored fingerprints
 * (services/records/store/stored-fingerprints.ts) must answer exactly what the
 * per-batch look-ups answer: the same outcome and the same errors for every
 * record, in every mode, and store the same values.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ObjectId, type Db, type Document } from "mongodb";
import { ENTITIES } from "../../services/domain/index.js";
import { writeBatch, type BatchResult, type WriteMode } from "../../services/records/store/batch-writer.js";
import { ensureIndexes } from "../../services/records/store/collections.js";
import { canonicalValue, recordFingerprint } from "../../services/records/store/record-fingerprint.js";
import { LOAD_THRESHOLD, PASS_BATCH_SIZE, StoredFingerprints } from "../../services/records/store/stored-fingerprints.js";
import { RecordsService } from "../../services/records/records-service.js";
import { Entity, WriteMode as WireMode } from "../../gen/dataexchange/records/v1/records_pb.js";
import { commandsDuring, openTestDatabase, type TestDatabase } from "../support/database.js";
import { collect, courseRecord, fromArray, handlerContext, writeRequest } from "./fixtures.js";

const USERS = 300;
const created = new Date("2024-03-01T09:00:00.000Z");

let t: TestDatabase;

function user(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { email: `u${n}@example.org`, username: `u${n}`, firstName: "Ada", lastName: `Number ${n}`, role: "student", status: "active", createdAt: created, ...extra };
}

function session(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { sessionId: `s${n}`, userId: `u${n % USERS}`, courseId: "C1", startedAt: new Date("2024-01-01T10:00:00Z"), status: "completed", score: n % 100, ...extra };
}

/** What the records' outcomes and errors are, in a form to compare. */
function summary(result: BatchResult) {
  return { inserted: result.inserted, updated: result.updated, unchanged: result.unchanged, skipped: result.skipped, failed: result.failed, outcomes: result.outcomes, errors: result.errors };
}

/**
 * The session ids look-ups by key asked for, however the server is asked:
 * one `$in` (FerretDB/SQLite, MongoDB) or one equality find each (FerretDB's
 * PostgreSQL backend, see point-lookups.ts).
 */
function keysAskedFor(filters: Document[]): string[] {
  return filters.flatMap((filter) => (typeof filter.sessionId === "string" ? [filter.sessionId] : ((filter.sessionId?.$in as string[] | undefined) ?? []))).sort();
}

/** The filters of the finds `work` sends to `collection` that select records (the pass's own find has none). */
async function findsDuring(t: TestDatabase, collection: string, work: (db: Db) => Promise<void>): Promise<Document[]> {
  const finds = await commandsDuring(t, (event) => event.commandName === "find" && event.command.find === collection && Object.keys(event.command.filter ?? {}).length > 0, work);
  return finds.map((command) => command.filter as Document);
}

async function loadedFingerprints(entity: "users" | "sessions"): Promise<StoredFingerprints> {
  const fingerprints = new StoredFingerprints();
  await fingerprints.load(t.db, ENTITIES[entity]);
  expect(fingerprints.isLoaded(ENTITIES[entity])).toBe(true);
  return fingerprints;
}

beforeAll(async () => {
  t = await openTestDatabase("records_fingerprints");
  await ensureIndexes(t.db);
  const users = Array.from({ length: USERS }, (_, n) => user(n, n % 10 === 0 ? { password: `secret-${n}-password` } : {}));
  // A stored user without a status, and one without a createdAt: a replacement keeps (or sets) those.
  users[1] = user(1, { status: undefined });
  users[2] = user(2, { createdAt: undefined });
  expect(summary(await writeBatch(t.db, ENTITIES.users, users, { mode: "insert", dryRun: false, ordered: false })).inserted).toBe(USERS);
  await writeBatch(t.db, ENTITIES.courses, [{ code: "C1", title: "Course C1" }], { mode: "insert", dryRun: false, ordered: false });
  await t.db.collection("users").updateOne({ email: "u1@example.org" }, { $unset: { status: "" } });
  await t.db.collection("users").updateOne({ email: "u2@example.org" }, { $unset: { createdAt: "" } });
  const sessions = Array.from({ length: USERS }, (_, n) => session(n, n % 7 === 0 ? { endedAt: new Date("2024-01-01T11:00:00Z") } : {}));
  expect((await writeBatch(t.db, ENTITIES.sessions, sessions, { mode: "insert", dryRun: false, ordered: false })).inserted).toBe(USERS);
}, 120_000);
afterAll(async () => t?.close());

/** A re-import of every stored user with every kind of difference a row can have. */
function mixedUsers(): Record<string, unknown>[] {
  return Array.from({ length: USERS + 20 }, (_, n) => {
    if (n >= USERS) return user(n); // new keys
    if (n === 1) return user(1, { status: undefined }); // left out, stored without one
    if (n === 2) return user(2, { createdAt: undefined }); // left out, stored without one
    if (n % 10 === 0) return user(n, { password: `secret-${n}-password` }); // the same password again
    if (n % 10 === 3) return user(n, { lastName: "Changed" });
    if (n % 10 === 4) return user(n, { status: undefined }); // a defaulted field left out
    if (n % 10 === 5) return user(n, { createdAt: undefined });
    if (n % 10 === 6) return user(n, { username: `u${n + 1}` }); // a username another user owns
    if (n % 10 === 7) return { email: `u${n}@example.org`, lastName: `Number ${n}` }; // partial (merge)
    if (n % 10 === 8) return user(n, { createdAt: new Date(created.getTime() + 1) });
    if (n === 9) return user(9, { email: "U9@Example.org" }); // the key in another case
    return user(n);
  });
}

describe("records stored as they are sent, decided from the stream's fingerprints", () => {
  for (const mode of ["upsert", "merge", "skip-existing"] as WriteMode[]) {
    for (const ordered of [false, true]) {
      it(`answers a ${ordered ? "ordered" : "unordered"} ${mode} dry run of users exactly as the look-ups do`, async () => {
        const records = mixedUsers();
        const byLookUp = await writeBatch(t.db, ENTITIES.users, records, { mode, dryRun: true, ordered });
        const byFingerprint = await writeBatch(t.db, ENTITIES.users, records, { mode, dryRun: true, ordered, storedFingerprints: await loadedFingerprints("users") });
        expect(summary(byFingerprint)).toEqual(summary(byLookUp));
        // An ordered batch stops at its first failing record (the fourth).
        expect(byLookUp.unchanged + byLookUp.skipped).toBeGreaterThan(ordered ? 2 : 150);
      }, 60_000);
    }
  }

  it("answers sessions (a missing reference, a changed end, an end left out) exactly as the look-ups do", async () => {
    const records = Array.from({ length: USERS }, (_, n) => {
      if (n % 11 === 1) return session(n, { userId: "nobody" });
      if (n % 7 === 0 && n % 2 === 0) return session(n); // stored with an end, sent without
      if (n % 13 === 2) return session(n, { score: 101 - (n % 100) });
      return session(n, n % 7 === 0 ? { endedAt: new Date("2024-01-01T11:00:00Z") } : {});
    });
    for (const mode of ["upsert", "merge", "skip-existing"] as WriteMode[]) {
      const byLookUp = await writeBatch(t.db, ENTITIES.sessions, records, { mode, dryRun: true, ordered: false });
      const byFingerprint = await writeBatch(t.db, ENTITIES.sessions, records, { mode, dryRun: true, ordered: false, storedFingerprints: await loadedFingerprints("sessions") });
      expect(summary(byFingerprint)).toEqual(summary(byLookUp));
    }
  }, 60_000);

  it("loads them only once a batch needs many look-ups, and writes what the look-ups would", async () => {
    const fingerprints = new StoredFingerprints();
    const small = await writeBatch(t.db, ENTITIES.users, [user(20)], { mode: "upsert", dryRun: true, ordered: false, storedFingerprints: fingerprints });
    expect({ unchanged: small.unchanged, loaded: fingerprints.isLoaded(ENTITIES.users) }).toEqual({ unchanged: 1, loaded: false });

    const before = await t.db.collection("users").find({}).sort({ email: 1 }).toArray();
    const records = mixedUsers();
    const result = await writeBatch(t.db, ENTITIES.users, records, { mode: "upsert", dryRun: false, ordered: false, storedFingerprints: fingerprints });
    expect(fingerprints.isLoaded(ENTITIES.users)).toBe(true);
    expect({ inserted: result.inserted, failed: result.failed }).toEqual({ inserted: 20, failed: 60 });
    const after = new Map((await t.db.collection("users").find({}).toArray()).map((d) => [d.email as string, d]));
    for (const old of before) {
      const now = after.get(old.email as string)!;
      const n = Number(String(old.email).slice(1, String(old.email).indexOf("@")));
      if (n % 10 === 3) expect(now.lastName).toBe("Changed");
      else if (n % 10 === 8) expect(now.createdAt).toEqual(new Date(created.getTime() + 1));
      else if (n === 1)
        expect(now.status).toBe("active"); // a replacement sets the default the stored record lacked
      else if (n === 2) expect(now.createdAt).toBeInstanceOf(Date);
      else if (n % 10 === 6 || n % 10 === 7)
        expect(now).toEqual(old); // refused: a taken username, an incomplete record
      else expect({ n, doc: now }).toEqual({ n, doc: old }); // unchanged: not even updatedAt moves
    }
  }, 120_000);

  it("compares a later batch with what the stream itself wrote, not with the pass", async () => {
    const fingerprints = new StoredFingerprints();
    const batch = (lastName: string) => Array.from({ length: LOAD_THRESHOLD }, (_, n) => user(n + 1000, n === 0 ? { lastName } : {}));
    expect((await writeBatch(t.db, ENTITIES.users, batch("Number 1000"), { mode: "insert", dryRun: false, ordered: false })).inserted).toBe(LOAD_THRESHOLD);
    await writeBatch(t.db, ENTITIES.users, batch("Number 1000"), { mode: "upsert", dryRun: true, ordered: false, storedFingerprints: fingerprints });
    expect(fingerprints.isLoaded(ENTITIES.users)).toBe(true);
    const changed = await writeBatch(t.db, ENTITIES.users, batch("Renamed"), { mode: "upsert", dryRun: false, ordered: false, storedFingerprints: fingerprints });
    expect(changed.updated).toBe(1);
    const back = await writeBatch(t.db, ENTITIES.users, batch("Number 1000"), { mode: "upsert", dryRun: false, ordered: false, storedFingerprints: fingerprints });
    expect({ updated: back.updated, unchanged: back.unchanged }).toEqual({ updated: 1, unchanged: LOAD_THRESHOLD - 1 });
    expect((await t.db.collection("users").findOne({ email: "u1000@example.org" }))?.lastName).toBe("Number 1000");
    // And a key the stream inserted is known too.
    const fresh = [user(5000), ...batch("Number 1000").slice(1)];
    expect((await writeBatch(t.db, ENTITIES.users, fresh, { mode: "upsert", dryRun: false, ordered: false, storedFingerprints: fingerprints })).inserted).toBe(1);
    const again = await writeBatch(t.db, ENTITIES.users, [user(5000)], { mode: "upsert", dryRun: true, ordered: false, storedFingerprints: fingerprints });
    expect(again.unchanged).toBe(1);
  }, 60_000);

  it("loads them after an unordered skip-existing batch of many stored records, users and sessions alike, and skips later batches' stored records from them", async () => {
    const users = new StoredFingerprints();
    const stored = Array.from({ length: LOAD_THRESHOLD }, (_, n) => user(n + 1000));
    const first = await writeBatch(t.db, ENTITIES.users, stored, { mode: "skip-existing", dryRun: false, ordered: false, storedFingerprints: users });
    // The pass starts beside the stream; the next batch waits for the keys it needs.
    expect({ skipped: first.skipped, started: users.isLoading(ENTITIES.users) || users.isLoaded(ENTITIES.users) }).toEqual({ skipped: LOAD_THRESHOLD, started: true });
    const again = await writeBatch(t.db, ENTITIES.users, [...stored, user(7000)], { mode: "skip-existing", dryRun: false, ordered: false, storedFingerprints: users });
    expect({ skipped: again.skipped, inserted: again.inserted }).toEqual({ skipped: LOAD_THRESHOLD, inserted: 1 });

    const sessions = new StoredFingerprints();
    const file = Array.from({ length: USERS }, (_, n) => session(n, n % 7 === 0 ? { endedAt: new Date("2024-01-01T11:00:00Z") } : {}));
    const result = await writeBatch(t.db, ENTITIES.sessions, file, { mode: "skip-existing", dryRun: false, ordered: false, storedFingerprints: sessions });
    expect({ skipped: result.skipped, started: sessions.isLoading(ENTITIES.sessions) || sessions.isLoaded(ENTITIES.sessions) }).toEqual({ skipped: USERS, started: true });
    // The next batch: the stored sessions as they are (from the table), one changed (stored, so skipped all the same) and one new.
    const next = [...file.slice(1), session(0, { endedAt: new Date("2024-01-01T12:30:00Z") }), session(USERS)];
    const later = await writeBatch(t.db, ENTITIES.sessions, next, { mode: "skip-existing", dryRun: false, ordered: false, storedFingerprints: sessions });
    expect({ skipped: later.skipped, inserted: later.inserted, failed: later.failed }).toEqual({ skipped: USERS, inserted: 1, failed: 0 });
    expect(await t.db.collection("sessions").countDocuments()).toBe(USERS + 1);
  }, 60_000);

  it("records only what an ordered batch wrote: the records after its first failure were not attempted, and are inserted later", async () => {
    const fingerprints = new StoredFingerprints();
    await writeBatch(
      t.db,
      ENTITIES.users,
      Array.from({ length: LOAD_THRESHOLD }, (_, n) => user(n)),
      { mode: "upsert", dryRun: true, ordered: false, storedFingerprints: fingerprints },
    );
    expect(fingerprints.isLoaded(ENTITIES.users)).toBe(true);
    const fresh = Array.from({ length: LOAD_THRESHOLD }, (_, n) => user(20_000 + n));
    const ordered = await writeBatch(
      t.db,
      ENTITIES.users,
      fresh.map((r, i) => (i === 3 ? { ...r, email: "not an email" } : r)),
      { mode: "upsert", dryRun: false, ordered: true, storedFingerprints: fingerprints },
    );
    expect({ inserted: ordered.inserted, failed: ordered.failed }).toEqual({ inserted: 3, failed: LOAD_THRESHOLD - 3 });
    const again = await writeBatch(t.db, ENTITIES.users, fresh, { mode: "upsert", dryRun: false, ordered: false, storedFingerprints: fingerprints });
    expect({ inserted: again.inserted, unchanged: again.unchanged }).toEqual({ inserted: LOAD_THRESHOLD - 3, unchanged: 3 });
    expect(await t.db.collection("users").countDocuments({ email: { $in: fresh.map((r) => r.email as string) } })).toBe(LOAD_THRESHOLD);
  }, 60_000);

  it("stops adding keys the stream writes at its size limit, and looks the ones left out up", async () => {
    const stored = await t.db.collection("sessions").countDocuments();
    const fingerprints = new StoredFingerprints(stored + 5);
    await fingerprints.load(t.db, ENTITIES.sessions);
    expect(fingerprints.isLoaded(ENTITIES.sessions)).toBe(true);
    const fresh = Array.from({ length: 20 }, (_, n) => session(5000 + n));
    expect((await writeBatch(t.db, ENTITIES.sessions, fresh, { mode: "upsert", dryRun: false, ordered: false, storedFingerprints: fingerprints })).inserted).toBe(20);
    const again = await writeBatch(t.db, ENTITIES.sessions, fresh, { mode: "upsert", dryRun: false, ordered: false, storedFingerprints: fingerprints });
    expect({ unchanged: again.unchanged, inserted: again.inserted, updated: again.updated }).toEqual({ unchanged: 20, inserted: 0, updated: 0 });
    const changed = await writeBatch(
      t.db,
      ENTITIES.sessions,
      fresh.map((r) => ({ ...r, score: 99 })),
      { mode: "upsert", dryRun: false, ordered: false, storedFingerprints: fingerprints },
    );
    expect(changed.updated).toBe(20);
    expect(await t.db.collection("sessions").countDocuments({ sessionId: { $in: fresh.map((r) => r.sessionId as string) }, score: 99 })).toBe(20);
  }, 60_000);

  it("falls back to look-ups when the collection has more records than it may hold", async () => {
    const fingerprints = new StoredFingerprints(100);
    const records = mixedUsers();
    const result = await writeBatch(t.db, ENTITIES.users, records, { mode: "upsert", dryRun: true, ordered: false, storedFingerprints: fingerprints });
    expect(fingerprints.isLoaded(ENTITIES.users)).toBe(false);
    expect(summary(result)).toEqual(summary(await writeBatch(t.db, ENTITIES.users, records, { mode: "upsert", dryRun: true, ordered: false })));
  }, 60_000);

  it("re-imports 5,000 stored courses through WriteRecords as unchanged, and a changed title as updated", async () => {
    const service = new RecordsService(t.db);
    const courses = (title: (i: number) => string) =>
      Array.from({ length: 5 }, (_, b) =>
        writeRequest(
          Entity.COURSES,
          Array.from({ length: 1000 }, (_, i) => courseRecord(`K${b * 1000 + i}`, { title: title(b * 1000 + i) })),
          { mode: WireMode.UPSERT, batchId: String(b) },
        ),
      );
    const first = await collect(service.writeRecords(fromArray(courses((i) => `Course ${i}`)), handlerContext()));
    expect(first.reduce((sum, r) => sum + r.inserted, 0)).toBe(5000);
    const again = await collect(service.writeRecords(fromArray(courses((i) => (i === 4321 ? "Retitled" : `Course ${i}`))), handlerContext()));
    expect({ unchanged: again.reduce((s, r) => s + r.unchanged, 0), updated: again.reduce((s, r) => s + r.updated, 0), failed: again.reduce((s, r) => s + r.failed, 0) }).toEqual({
      unchanged: 4999,
      updated: 1,
      failed: 0,
    });
    expect((await t.db.collection("courses").findOne({ code: "K4321" }))?.title).toBe("Retitled");
  }, 120_000);
});

describe("the pass over a collection larger than one reply", () => {
  let big: TestDatabase;
  const n = 10 * PASS_BATCH_SIZE + 234;
  /** The sessions as stored; what a file re-imports is each without its change time. */
  const documents: Record<string, unknown>[] = Array.from({ length: n }, (_, i) => ({
    ...session(i),
    ...(i % 3 === 0 ? { endedAt: new Date(Date.UTC(2024, 0, 1, 11, 0, 0, i % 1000)) } : {}),
    updatedAt: created,
  }));
  const record = (i: number, extra: Record<string, unknown> = {}) => {
    const { updatedAt: _, ...fields } = documents[i]!;
    return { ...fields, ...extra };
  };
  const spec = ENTITIES.sessions;

  beforeAll(async () => {
    big = await openTestDatabase("records_fingerprints_pass");
    await ensureIndexes(big.db);
    await big.db.collection("users").insertMany(Array.from({ length: USERS }, (_, i) => ({ ...user(i), email: `u${i}@example.org` })));
    await big.db.collection("courses").insertOne({ code: "C1", title: "Course C1" });
    for (let from = 0; from < n; from += 2000) await big.db.collection("sessions").insertMany(documents.slice(from, from + 2000), { ordered: false });
  }, 120_000);
  afterAll(async () => big?.close());

  it("reads every stored record across its replies, each decoded as a look-up decodes it", async () => {
    const fingerprints = new StoredFingerprints();
    await fingerprints.load(big.db, spec);
    expect(fingerprints.isLoaded(spec)).toBe(true);
    for (const i of [0, 1, 3, PASS_BATCH_SIZE - 1, PASS_BATCH_SIZE, n - 1]) {
      expect(fingerprints.isStoredAsIs(spec, record(i)), `session ${i}`).toBe(true);
      expect(fingerprints.isStoredAsIs(spec, record(i, { score: 101 })), `session ${i} changed`).toBe(false);
    }
  }, 120_000);

  it("lets a batch go as soon as the pass has read its keys, before the pass has read the rest", async () => {
    const fingerprints = new StoredFingerprints();
    try {
      fingerprints.start(big.db, spec);
      const first = Array.from({ length: 300 }, (_, i) => record(i));
      await fingerprints.whenRead(spec, first);
      // The first reply holds these; the rest of the collection comes in the replies after it.
      expect(fingerprints.isLoading(spec)).toBe(true);
      expect(first.every((r) => fingerprints.isStoredAsIs(spec, r))).toBe(true);
      // A key the collection does not hold waits for the whole pass.
      await fingerprints.whenRead(spec, [record(0, { sessionId: "not-stored" })]);
      expect(fingerprints.isLoaded(spec)).toBe(true);
    } finally {
      fingerprints.close();
    }
  }, 120_000);

  it("looks a corrected file's few changed records up by the _id the pass read, not by their keys, and by key where another writer moved one", async () => {
    const fingerprints = new StoredFingerprints();
    await fingerprints.load(big.db, spec);
    // Another writer, after the pass: s6010 deleted and stored again (a new _id), s6020's document given another key.
    await big.db.collection("sessions").deleteOne({ sessionId: "s6010" });
    await big.db.collection("sessions").insertOne({ ...documents[6010], _id: new ObjectId() });
    await big.db.collection("sessions").updateOne({ sessionId: "s6020" }, { $set: { sessionId: "s6020-moved" } });
    const changedScore = (i: number) => ((Number(documents[i]!.score) + 50) % 100) + 0.5;
    const corrected = (from: number, changed: number[]) => Array.from({ length: 300 }, (_, k) => from + k).map((i) => (changed.includes(i) ? record(i, { score: changedScore(i) }) : record(i)));
    const options = { mode: "upsert" as const, dryRun: false, ordered: true, storedFingerprints: fingerprints };
    const few = [6000, 6010, 6020, 6100, 6200];
    let result: BatchResult | undefined;
    const finds = await findsDuring(big, "sessions", async (db) => {
      result = await writeBatch(db, spec, corrected(6000, few), options);
    });
    // s6020 is no longer stored under its key: inserted again; s6010 is found by its key.
    expect(summary(result!)).toMatchObject({ inserted: 1, updated: 4, unchanged: 295, failed: 0, errors: [] });
    const byKey = finds.filter((filter) => !("_id" in filter));
    expect(keysAskedFor(byKey)).toEqual(["s6010", "s6020"]);
    expect(finds.length - byKey.length).toBe(5);

    // More than a few: one look-up by key costs less than an _id each.
    const many = Array.from({ length: 9 }, (_, k) => 6300 + k * 10);
    const manyFinds = await findsDuring(big, "sessions", async (db) => {
      result = await writeBatch(db, spec, corrected(6300, many), options);
    });
    expect(summary(result!)).toMatchObject({ inserted: 0, updated: 9, unchanged: 291, failed: 0 });
    expect(manyFinds.filter((filter) => "_id" in filter)).toEqual([]);
    expect(keysAskedFor(manyFinds)).toEqual(many.map((i) => `s${i}`).sort());

    const stored = await big.db
      .collection("sessions")
      .find({ sessionId: { $in: Array.from({ length: 600 }, (_, k) => `s${6000 + k}`) } })
      .toArray();
    expect(stored).toHaveLength(600);
    for (const doc of stored) {
      const i = Number(String(doc.sessionId).slice(1));
      expect({ i, score: doc.score }).toEqual({ i, score: few.includes(i) || many.includes(i) ? changedScore(i) : documents[i]!.score });
    }
  }, 120_000);

  it("stops reading when the stream ends before the pass is done", async () => {
    const fingerprints = new StoredFingerprints(undefined, 20);
    fingerprints.start(big.db, spec);
    await fingerprints.whenRead(spec, [record(0)]);
    fingerprints.close();
    await fingerprints.load(big.db, spec);
    expect({ loading: fingerprints.isLoading(spec), loaded: fingerprints.isLoaded(spec) }).toEqual({ loading: false, loaded: false });
  }, 60_000);

  it("keeps what the stream writes while the pass runs: a record changed and then sent as it was before is changed back, not taken as unchanged", async () => {
    // Replies of 5 documents: the pass reads the collection over two thousand round trips, so these batches run while it does (asserted below).
    const fingerprints = new StoredFingerprints(undefined, 5);
    const options = { mode: "upsert" as const, dryRun: false, ordered: false, storedFingerprints: fingerprints };
    // A batch of stored records starts the pass (after its inserts are refused) and is decided from it.
    const early = await writeBatch(
      big.db,
      spec,
      Array.from({ length: 300 }, (_, i) => record(i)),
      options,
    );
    expect(summary(early)).toMatchObject({ unchanged: 300, failed: 0 });
    expect(fingerprints.isLoading(spec)).toBe(true);
    // A record the pass has read, changed while the pass goes on, then sent as it was: changed back.
    expect(summary(await writeBatch(big.db, spec, [record(5, { score: 77 })], options))).toMatchObject({ updated: 1, failed: 0 });
    expect(summary(await writeBatch(big.db, spec, [record(5)], options))).toMatchObject({ updated: 1, unchanged: 0, failed: 0 });
    expect(fingerprints.isLoading(spec)).toBe(true);
    // A record the pass reads after the stream changed it (its last reply): the same.
    expect(summary(await writeBatch(big.db, spec, [record(n - 5, { score: 77 })], options))).toMatchObject({ updated: 1, failed: 0 });
    expect(summary(await writeBatch(big.db, spec, [record(n - 5)], options))).toMatchObject({ updated: 1, unchanged: 0, failed: 0 });
    // Sent again as they now are: unchanged.
    expect(summary(await writeBatch(big.db, spec, [record(5), record(n - 5)], options))).toMatchObject({ unchanged: 2, updated: 0, failed: 0 });
    const stored = await big.db
      .collection("sessions")
      .find({ sessionId: { $in: [`s5`, `s${n - 5}`] } })
      .toArray();
    expect(stored.map((d) => d.score).sort()).toEqual([documents[5]!.score, documents[n - 5]!.score].sort());
    fingerprints.close();
  }, 120_000);
});

describe("a record's fingerprint", () => {
  const spec = ENTITIES.sessions;
  it("is the same for values sameValue calls equal: dates by instant, objects in any key order, undefined as absent", () => {
    expect(canonicalValue(new Date("2024-01-01T00:00:00Z"))).toBe(canonicalValue(new Date(Date.parse("2024-01-01T00:00:00Z"))));
    expect(canonicalValue({ a: 1, b: "x", c: undefined })).toBe(canonicalValue({ b: "x", a: 1 }));
    expect(canonicalValue(-0)).toBe(canonicalValue(0));
    expect(recordFingerprint(spec, session(1))).toEqual(recordFingerprint(spec, { ...session(1), endedAt: undefined }));
  });

  it("differs for values that differ in type or content", () => {
    const distinct = ["1", 1, true, null, undefined, [], {}, [1], { a: 1 }, new Date(1), "", "u", "n"].map(canonicalValue);
    expect(new Set(distinct).size).toBe(distinct.length);
    expect(recordFingerprint(spec, session(1))).not.toEqual(recordFingerprint(spec, session(1, { score: 2 })));
    expect(recordFingerprint(spec, session(1))).not.toEqual(recordFingerprint(spec, session(1, { endedAt: new Date("2024-01-01T11:00:00Z") })));
  });

  it("does not exist for values it cannot describe exactly (NaN, an invalid date, BSON types), so the look-up decides", () => {
    for (const value of [Number.NaN, new Date(Number.NaN), new ObjectId(), [Number.NaN], { a: Number.NaN }, 10n]) expect(canonicalValue(value)).toBeUndefined();
    expect(recordFingerprint(spec, session(1, { score: Number.NaN }))).toBeUndefined();
  });
});
