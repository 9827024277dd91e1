/**
 * The records service's audit of writes, at the class (tier 1, hand-made
 * contexts, no authentication): one event per PutRecord and DeleteRecord,
 * one per WriteRecords call and entity with summed counts, failures and
 * cancellations included, and an audit store that fails never failing the
 * write it was about.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "mongodb";
import { create } from "@bufbuild/protobuf";
import { DeleteRecordRequestSchema, Entity, PutRecordRequestSchema, WriteMode } from "../../gen/dataexchange/records/v1/records_pb.js";
import { RecordsService } from "../../services/records/records-service.js";
import { ensureIndexes } from "../../services/records/store/collections.js";
import { AuditLog, type AuditEventDocument } from "../../services/shared/audit/index.js";
import { openTestDatabase, type TestDatabase } from "../support/database.js";
import { collect, courseRecord, fromArray, handlerContext, writeRequest } from "./fixtures.js";

let t: TestDatabase;
let service: RecordsService;

beforeAll(async () => {
  t = await openTestDatabase("records_write_audit");
  await ensureIndexes(t.db);
  service = new RecordsService(t.db);
});
afterAll(async () => t?.close());

async function events(db: Db = t.db): Promise<AuditEventDocument[]> {
  return db
    .collection<AuditEventDocument>("audit_events")
    .find({}, { sort: { time: 1, _id: 1 } })
    .toArray();
}

describe("auditing writes at the class", () => {
  it("appends one event per PutRecord and DeleteRecord, anonymous without authentication", async () => {
    const before = (await events()).length;
    const put = create(PutRecordRequestSchema, { entity: Entity.COURSES, mode: WriteMode.INSERT, record: courseRecord("WA-1") });
    await service.putRecord(put, handlerContext());
    await service.putRecord(put, handlerContext()).catch(() => undefined);
    await service.deleteRecord(create(DeleteRecordRequestSchema, { entity: Entity.COURSES, key: { parts: ["WA-1"] } }), handlerContext());
    const added = (await events()).slice(before);
    expect(added.map((e) => [e.action, e.subject, e.entity, e.recordKey, e.outcome, e.errorCode])).toEqual([
      ["put", "anonymous", "courses", ["WA-1"], "succeeded", undefined],
      ["put", "anonymous", "courses", ["WA-1"], "failed", "already_exists"],
      ["delete", "anonymous", "courses", ["WA-1"], "succeeded", undefined],
    ]);
    expect(added[0]).toMatchObject({ service: "records", mode: "insert", dryRun: false, counts: { inserted: 1 } });
  });

  it("appends one event per WriteRecords call and entity, with the batches' counts summed", async () => {
    const before = (await events()).length;
    const requests = [
      writeRequest(Entity.COURSES, [courseRecord("WB-1"), courseRecord("WB-2")], { mode: WriteMode.UPSERT }),
      writeRequest(Entity.COURSES, [courseRecord("WB-3"), courseRecord("bad code!")], { mode: WriteMode.UPSERT }),
      writeRequest(Entity.COURSES, [courseRecord("WB-9")], { mode: WriteMode.INSERT, dryRun: true }),
    ];
    await collect(service.writeRecords(fromArray(requests), handlerContext()));
    const added = (await events()).slice(before);
    expect(added.map((e) => [e.action, e.entity, e.dryRun, e.mode, e.outcome, e.counts])).toEqual([
      ["write", "courses", false, "upsert", "succeeded", { inserted: 3, updated: 0, unchanged: 0, skipped: 0, failed: 1, batches: 2 }],
      ["write", "courses", true, "insert", "succeeded", { inserted: 1, updated: 0, unchanged: 0, skipped: 0, failed: 0, batches: 1 }],
    ]);
  });

  it("records a WriteRecords call that failed, with its status", async () => {
    const before = (await events()).length;
    await collect(service.writeRecords(fromArray([writeRequest(Entity.UNSPECIFIED, [courseRecord("WC-1")])]), handlerContext())).catch(() => undefined);
    const [event] = (await events()).slice(before);
    expect(event).toMatchObject({ action: "write", outcome: "failed", errorCode: "invalid_argument", counts: { batches: 1 } });
    expect(event!.entity).toBeUndefined();
  });

  it("keeps the write when its event cannot be stored, and reports the event instead", async () => {
    const reports: unknown[] = [];
    const broken = new AuditLog(t.db, "records");
    broken.append = async () => {
      throw new Error("the audit store is down");
    };
    const flaky = new RecordsService(t.db, broken, (_message, detail) => void reports.push(detail));
    const answer = await flaky.putRecord(create(PutRecordRequestSchema, { entity: Entity.COURSES, mode: WriteMode.UPSERT, record: courseRecord("WD-1") }), handlerContext());
    expect(answer.record?.kind.case).toBe("course");
    expect(reports).toEqual([expect.objectContaining({ error: "the audit store is down", event: expect.objectContaining({ action: "put", recordKey: ["WD-1"] }) })]);
  });
});
