/**
 * 100k records written through WriteRecords and streamed back through
 * StreamRecords, with exact counts. (Throughput is measured in bench/, not here.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { RecordsService } from "../../services/records/records-service.js";
import { ensureIndexes } from "../../services/records/store/collections.js";
import { Entity, StreamRecordsRequestSchema, WriteMode } from "../../gen/dataexchange/records/v1/records_pb.js";
import { openTestDatabase, type TestDatabase } from "../support/database.js";
import { courseRecord, handlerContext, sessionRecord, userRecord, writeRequest, collect, fromArray } from "./fixtures.js";

const TOTAL = 100_000;
const BATCH = 1_000;

let t: TestDatabase;
let service: RecordsService;

beforeAll(async () => {
  t = await openTestDatabase("records_bulk");
  await ensureIndexes(t.db);
  service = new RecordsService(t.db);
  await collect(service.writeRecords(fromArray([writeRequest(Entity.USERS, [userRecord(1)]), writeRequest(Entity.COURSES, [courseRecord("C1")])]), handlerContext()));
});
afterAll(async () => t?.close());

async function* batches(mode: WriteMode) {
  for (let start = 0; start < TOTAL; start += BATCH) {
    const records = Array.from({ length: BATCH }, (_, i) => sessionRecord(`s${start + i}`, "user1", "C1", { score: (start + i) % 101 }));
    yield writeRequest(Entity.SESSIONS, records, { mode, batchId: String(start / BATCH) });
  }
}

describe("bulk writes and reads", () => {
  it(`writes ${TOTAL} sessions in batches of ${BATCH} with exact counts`, async () => {
    let inserted = 0;
    let failed = 0;
    let responses = 0;
    for await (const result of service.writeRecords(batches(WriteMode.INSERT), handlerContext())) {
      inserted += result.inserted;
      failed += result.failed;
      responses++;
    }
    expect({ inserted, failed, responses }).toEqual({ inserted: TOTAL, failed: 0, responses: TOTAL / BATCH });
    expect(await t.db.collection("sessions").countDocuments()).toBe(TOTAL);
  }, 300_000);

  it(`streams all ${TOTAL} back, each exactly once`, async () => {
    const seen = new Set<string>();
    let scoreSum = 0;
    for await (const batch of service.streamRecords(create(StreamRecordsRequestSchema, { entity: Entity.SESSIONS, batchSize: 1000, fields: ["sessionId", "score"] }), handlerContext())) {
      for (const record of batch.records) {
        const session = record.kind.value as { sessionId: string; score: number };
        seen.add(session.sessionId);
        scoreSum += session.score;
      }
    }
    let expectedSum = 0;
    for (let i = 0; i < TOTAL; i++) expectedSum += i % 101;
    expect(seen.size).toBe(TOTAL);
    expect(scoreSum).toBe(expectedSum);
  }, 300_000);
});

describe("an upsert that changes a whole batch of existing records", () => {
  // FerretDB v1.24 holds one SQLite connection per statement of an update command until the command
  // ends, out of a pool of 100: a command of 100 replacements waited forever (services/records/store/send-writes.ts).
  it(`answers with every record updated (${BATCH} replacements in one batch)`, async () => {
    const courses = (title: string) => Array.from({ length: BATCH }, (_, i) => courseRecord(`U${i}`, { title: `${title} ${i}` }));
    await collect(service.writeRecords(fromArray([writeRequest(Entity.COURSES, courses("Before"))]), handlerContext()));
    const [result] = await collect(service.writeRecords(fromArray([writeRequest(Entity.COURSES, courses("After"), { mode: WriteMode.UPSERT })]), handlerContext()));
    expect({ updated: result!.updated, failed: result!.failed }).toEqual({ updated: BATCH, failed: 0 });
    expect(await t.db.collection("courses").countDocuments({ title: { $gte: "After", $lt: "After\uffff" } })).toBe(BATCH);
  }, 120_000);
});
