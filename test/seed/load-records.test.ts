/**
 * The loader against a stub records service on an in-memory router transport:
 * how it batches, pipelines, counts and reports, without a database.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { createClient, createRouterTransport, type ServiceImpl } from "@connectrpc/connect";
import {
  CountRecordsResponseSchema,
  RecordErrorSchema,
  RecordsService,
  WriteMode,
  WriteRecordsResponseSchema,
  type WriteRecordsRequest,
  type WriteRecordsResponse,
} from "../../gen/dataexchange/records/v1/records_pb.js";
import { loadEntities, loadRecords } from "../../scripts/seed/load-records.js";

interface Stub {
  received: WriteRecordsRequest[];
  /** Most batches received and not yet answered at any moment. */
  maxUnanswered: number;
  activityCount: bigint;
}

/**
 * A records service that reads requests as fast as they come, answers each
 * after a delay, and fails the records whose key is in `failing`.
 */
function stubClient(options: { delayMs?: number; failing?: Set<string>; activityCount?: bigint } = {}) {
  const stub: Stub = { received: [], maxUnanswered: 0, activityCount: options.activityCount ?? 0n };
  const impl: Partial<ServiceImpl<typeof RecordsService>> = {
    async *writeRecords(requests) {
      const queue: WriteRecordsRequest[] = [];
      let done = false;
      let answered = 0;
      const pump = (async () => {
        for await (const request of requests) {
          stub.received.push(request);
          queue.push(request);
          stub.maxUnanswered = Math.max(stub.maxUnanswered, stub.received.length - answered);
        }
        done = true;
      })();
      while (!done || queue.length > 0) {
        const request = queue.shift();
        if (!request) {
          await sleep(1);
          continue;
        }
        await sleep(options.delayMs ?? 2);
        const errors = request.records.flatMap((r, index) =>
          r.kind.case === "user" && options.failing?.has(r.kind.value.email ?? "") ? [create(RecordErrorSchema, { index, field: "email", code: "invalid", reason: "refused by the stub" })] : [],
        );
        answered++;
        yield create(WriteRecordsResponseSchema, { batchId: request.batchId, inserted: request.records.length - errors.length, failed: errors.length, errors }) as WriteRecordsResponse;
      }
      await pump;
    },
    async countRecords() {
      return create(CountRecordsResponseSchema, { count: stub.activityCount });
    },
  };
  const client = createClient(
    RecordsService,
    createRouterTransport((router) => router.service(RecordsService, impl)),
  );
  return { client, stub };
}

const users = (n: number) => Array.from({ length: n }, (_, i) => ({ email: `u${i}@example.org`, username: `u${i}`, createdAt: new Date("2024-01-01T00:00:00Z") }));

describe("loading records through WriteRecords", () => {
  it("sends full batches in upsert mode and adds up the answers exactly", async () => {
    const { client, stub } = stubClient();
    const result = await loadRecords(client, "users", users(2500), { batchSize: 1000 });
    expect(stub.received.map((r) => [r.batchId, r.records.length, r.mode])).toEqual([
      ["0", 1000, WriteMode.UPSERT],
      ["1", 1000, WriteMode.UPSERT],
      ["2", 500, WriteMode.UPSERT],
    ]);
    expect(result).toMatchObject({ entity: "users", batches: 3, records: 2500, inserted: 2500, failed: 0, errors: [] });
  });

  it("converts plain dates to timestamps on the wire", async () => {
    const { client, stub } = stubClient();
    await loadRecords(client, "users", users(1));
    const user = stub.received[0]!.records[0]!.kind;
    expect(user.case).toBe("user");
    expect(user.case === "user" && Number(user.value.createdAt!.seconds)).toBe(Date.UTC(2024, 0, 1) / 1000);
  });

  it("keeps several batches in flight but never more than allowed", async () => {
    const { client, stub } = stubClient({ delayMs: 5 });
    const result = await loadRecords(client, "users", users(20_000), { batchSize: 500, inFlight: 3 });
    expect(result.batches).toBe(40);
    expect(result.inserted).toBe(20_000);
    expect(stub.maxUnanswered).toBe(3);
  });

  it("reports failed records by batch, index and natural key, keeping only the first few", async () => {
    const failing = new Set(["u3@example.org", "u1500@example.org", "u1501@example.org"]);
    const { client } = stubClient({ failing });
    const result = await loadRecords(client, "users", users(2000), { batchSize: 1000, maxErrors: 2 });
    expect(result).toMatchObject({ inserted: 1997, failed: 3 });
    expect(result.errors).toEqual([
      { batch: 0, index: 3, record: "u3@example.org", field: "email", code: "invalid", reason: "refused by the stub" },
      { batch: 1, index: 500, record: "u1500@example.org", field: "email", code: "invalid", reason: "refused by the stub" },
    ]);
  });

  it("fails with the source's own error when reading the records fails", async () => {
    const { client } = stubClient();
    async function* broken() {
      yield* users(1500);
      throw new Error("the CSV file is truncated");
    }
    await expect(loadRecords(client, "users", broken(), { batchSize: 1000 })).rejects.toThrow("the CSV file is truncated");
  });

  it("inserts activity (append-only) instead of upserting it", async () => {
    const { client, stub } = stubClient();
    await loadRecords(client, "activity", [{ userId: "u1", action: "view", at: new Date() }]);
    expect(stub.received[0]!.mode).toBe(WriteMode.INSERT);
  });

  it("loads entities in reference order and skips activity that is already there", async () => {
    const { client, stub } = stubClient({ activityCount: 7n });
    const order: string[] = [];
    const results = await loadEntities(
      client,
      { activity: [{ userId: "u1", action: "view", at: new Date() }], users: users(1), courses: [{ code: "C1", title: "C" }] },
      { onEntity: (e) => order.push(e) },
    );
    expect(order).toEqual(["courses", "users", "activity"]);
    expect(stub.received.map((r) => r.records[0]!.kind.case)).toEqual(["course", "user"]);
    expect(results.map((r) => [r.entity, r.records])).toEqual([
      ["courses", 1],
      ["users", 1],
      ["activity", 0],
    ]);
    expect(results[2]!.notLoaded).toContain("already holds 7 entries");
  });
});
