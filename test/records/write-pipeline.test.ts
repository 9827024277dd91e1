/**
 * A WriteRecords stream prepares its next batch while the current one is
 * written (records-service.ts, shared/streams/prepare-ahead.ts). What must
 * hold: the same results as one batch after another — in particular for a
 * key two batches of one stream both write — and nothing remembered for a
 * revert about a batch that was prepared but never written.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Document } from "mongodb";
import { ENTITIES } from "../../services/domain/index.js";
import { RecordsService } from "../../services/records/records-service.js";
import { discardBatch, prepareBatch, sendBatch } from "../../services/records/store/batch-writer.js";
import { BEFORE_IMAGES, batchKeys, type InsertedBatchDocument } from "../../services/records/store/before-images.js";
import { Entity, WriteMode } from "../../gen/dataexchange/records/v1/records_pb.js";
import { commandsDuring, openTestDatabase, type TestDatabase } from "../support/database.js";
import { collect, courseRecord, emptyRecordsDatabase, forJob, fromArray, handlerContext, writeRequest } from "./fixtures.js";

/** The keys an inserted batch's entry (a raw document) holds. */
const keysOf = (entry: Document) => batchKeys(entry as InsertedBatchDocument);

let t: TestDatabase;

beforeAll(async () => {
  t = await openTestDatabase("write_pipeline");
});
afterAll(async () => t?.close());
beforeEach(async () => emptyRecordsDatabase(t.db));

const codes = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `P${from + i}`);

describe("a WriteRecords stream that prepares ahead", () => {
  it("writes a key changed by one batch and changed back by the next as the later batch says", async () => {
    const service = new RecordsService(t.db);
    // Every field given (a replacement keeps the stored value of a defaulted field left out, so such a record is always looked up).
    const course = (code: string, title = `Course ${code}`) => courseRecord(code, { title, visible: true });
    await collect(
      service.writeRecords(
        fromArray([
          writeRequest(
            Entity.COURSES,
            codes(0, 300).map((c) => course(c)),
          ),
        ]),
        handlerContext(),
      ),
    );
    // Batch 0 re-sends 250 stored courses as they are (enough look-ups for the stream to load its stored
    // fingerprints); batch 1 retitles P290; batch 2 gives it its old title back. All three are sent at once.
    const requests = [
      writeRequest(
        Entity.COURSES,
        codes(0, 250).map((c) => course(c)),
        { mode: WriteMode.UPSERT, batchId: "0" },
      ),
      writeRequest(Entity.COURSES, [course("P290", "Retitled"), course("P291")], { mode: WriteMode.UPSERT, batchId: "1" }),
      writeRequest(Entity.COURSES, [course("P290"), course("P292")], { mode: WriteMode.UPSERT, batchId: "2" }),
    ];
    const responses = await collect(service.writeRecords(fromArray(requests), handlerContext()));
    expect(responses.map((r) => ({ batch: r.batchId, updated: r.updated, unchanged: r.unchanged, failed: r.failed }))).toEqual([
      { batch: "0", updated: 0, unchanged: 250, failed: 0 },
      { batch: "1", updated: 1, unchanged: 1, failed: 0 },
      { batch: "2", updated: 1, unchanged: 1, failed: 0 },
    ]);
    expect((await t.db.collection("courses").findOne({ code: "P290" }))?.title).toBe("Course P290");
  }, 120_000);

  it("decides the batches of a re-imported file from the stored fingerprints once its first batch has loaded them", async () => {
    const course = (code: string) => courseRecord(code, { title: `Course ${code}`, visible: true });
    await collect(new RecordsService(t.db).writeRecords(fromArray([writeRequest(Entity.COURSES, codes(0, 1000).map(course))]), handlerContext()));
    // The service on a client of its own that reports each insert command it sends.
    const inserts = await commandsDuring(
      t,
      (event) => event.commandName === "insert" && event.command.insert === "courses",
      async (db) => {
        const service = new RecordsService(db);
        const requests = [0, 1, 2, 3].map((b) => writeRequest(Entity.COURSES, codes(b * 250, b * 250 + 250).map(course), { mode: WriteMode.UPSERT, batchId: String(b) }));
        const responses = await collect(service.writeRecords(fromArray(requests), handlerContext()));
        expect(responses.map((r) => r.unchanged)).toEqual([250, 250, 250, 250]);
      },
    );
    // The first batch is sent as inserts (refused: every key is stored) and loads the fingerprints; the others need no write.
    expect(inserts.map((command) => (command.documents as unknown[]).length)).toEqual([250]);
  }, 120_000);

  it("remembers nothing of a batch it prepared when the caller stops reading before it is written", async () => {
    const service = new RecordsService(t.db);
    const requests = [0, 1, 2].map((b) =>
      writeRequest(
        Entity.COURSES,
        codes(b * 100, b * 100 + 100).map((c) => courseRecord(c)),
        { batchId: String(b) },
      ),
    );
    const responses = service.writeRecords(fromArray(requests), forJob("job-left"));
    const first = await responses.next();
    expect(first.value?.inserted).toBe(100);
    await responses.return(undefined);
    expect(await t.db.collection("courses").countDocuments({})).toBe(100);
    const entries = await t.db.collection(BEFORE_IMAGES).find({ jobId: "job-left" }).toArray();
    expect(entries.map((e) => keysOf(e).length)).toEqual([100]);
  }, 60_000);
});

describe("discardBatch", () => {
  it("takes back what a prepared batch remembered for a revert, inserts and updates alike", async () => {
    const memory = { db: t.db, jobId: "job-discarded", retentionMs: 60_000 };
    await sendBatch(await prepareBatch(t.db, ENTITIES.courses, [{ code: "K1", title: "Old" }], { mode: "insert", dryRun: false, ordered: false }));
    const prepared = await prepareBatch(
      t.db,
      ENTITIES.courses,
      [
        { code: "K1", title: "New" },
        { code: "K2", title: "Fresh" },
      ],
      { mode: "upsert", dryRun: false, ordered: true, memory },
    );
    const remembered = await t.db.collection(BEFORE_IMAGES).find({ jobId: "job-discarded" }).toArray();
    expect(remembered.map((e) => e.kind).sort()).toEqual(["inserted", "updated"]);
    await discardBatch(prepared);
    expect(await t.db.collection(BEFORE_IMAGES).countDocuments({ jobId: "job-discarded" })).toBe(0);
    expect((await t.db.collection("courses").findOne({ code: "K1" }))?.title).toBe("Old");
    expect(await t.db.collection("courses").countDocuments({ code: "K2" })).toBe(0);
  }, 60_000);
});
