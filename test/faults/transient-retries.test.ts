/**
 * Which steps are retried after a transient database error (a connection
 * reset, a stepdown), and within what bound (issue 18.5): reads start over
 * as long as the caller has seen nothing of them; a stream that has already
 * sent records ends UNAVAILABLE instead of sending them twice; and once the
 * database stays away, the retry gives up within its budget (UNAVAILABLE).
 * Inserts are never blindly repeated: interrupted-bulk-write.test.ts shows
 * how what landed is told apart. The resets are real: a proxy in front of
 * the test run's FerretDB cuts the connection carrying the named command —
 * twice, since the driver retries a read once on its own.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { MongoNetworkError, MongoServerError, MongoServerSelectionError } from "mongodb";
import { CountRecordsRequestSchema, Entity, StreamRecordsRequestSchema } from "../../gen/dataexchange/records/v1/records_pb.js";
import { ENTITIES } from "../../services/domain/index.js";
import { RecordsService } from "../../services/records/records-service.js";
import { writeBatch } from "../../services/records/store/batch-writer.js";
import { retryTransient } from "../../services/shared/mongo/transient-retry.js";
import { handlerContext } from "../records/fixtures.js";
import { asServed } from "../support/served-records-service.js";
import type { CuttingProxy } from "./support/cutting-proxy.js";
import { openProxiedTestDatabase, type ProxiedDatabase } from "./support/proxied-database.js";

const ROWS = 2_500;

describe("retries of transient database errors", () => {
  let database: ProxiedDatabase;
  let proxy: CuttingProxy;
  let service: RecordsService;
  beforeAll(async () => {
    database = await openProxiedTestDatabase("retry");
    proxy = database.proxy;
    await writeBatch(
      database.direct.db,
      ENTITIES.courses,
      Array.from({ length: ROWS }, (_, i) => ({ code: `R${String(i).padStart(5, "0")}`, title: `Course ${i}` })),
      { mode: "insert", dryRun: false, ordered: false },
    );
    service = asServed(new RecordsService(database.db));
  });
  afterEach(() => proxy.accept());
  afterAll(async () => {
    await database?.close();
  });

  const stream = async (batchSize: number) => {
    const codes: string[] = [];
    let error: ConnectError | undefined;
    try {
      for await (const response of service.streamRecords(create(StreamRecordsRequestSchema, { entity: Entity.COURSES, batchSize, fields: ["code"] }), handlerContext())) {
        for (const record of response.records) codes.push((record.kind.value as { code: string }).code);
      }
    } catch (e) {
      error = ConnectError.from(e);
    }
    return { codes, error };
  };

  it("a stream's first read, cut before its answer, starts over: every record comes once", async () => {
    const cut = proxy.cutNext("find", "answer", 2);
    const { codes, error } = await stream(1_000);
    await cut;
    expect(error).toBeUndefined();
    expect(codes).toHaveLength(ROWS);
    expect(new Set(codes).size).toBe(ROWS);
  });

  it("a stream cut after it sent records ends UNAVAILABLE, and sends none of them twice", async () => {
    const cut = proxy.cutNext("getMore", "answer");
    const { codes, error } = await stream(500);
    await cut;
    expect(error?.code).toBe(Code.Unavailable);
    expect(codes.length).toBeGreaterThan(0);
    expect(codes.length).toBeLessThan(ROWS);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it("a count cut before its answer is asked again", async () => {
    const cut = proxy.cutNext("aggregate", "answer", 2);
    const { count } = await service.countRecords(create(CountRecordsRequestSchema, { entity: Entity.COURSES }));
    await cut;
    expect(count).toBe(BigInt(ROWS));
  });

  it("a write batch's look-up of existing records, cut, is asked again and the batch is written exactly", async () => {
    const cut = proxy.cutNext("find", "request", 2);
    const result = await writeBatch(database.db, ENTITIES.courses, [{ code: "R00001", title: "Merged" }], { mode: "merge", dryRun: false, ordered: false });
    await cut;
    expect(result).toMatchObject({ updated: 1, failed: 0, errors: [] });
  });

  it("gives up within its budget when the database stays away: UNAVAILABLE", async () => {
    proxy.refuse();
    const error = await service.countRecords(create(CountRecordsRequestSchema, { entity: Entity.COURSES })).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(error?.code).toBe(Code.Unavailable);
  });
});

describe("the retry policy", () => {
  const failing = (errors: unknown[]) => {
    let calls = 0;
    const step = async () => {
      const error = errors[calls++];
      if (error) throw error;
      return calls;
    };
    return { step, calls: () => calls };
  };

  it("repeats a step after connection resets and stepdowns until it succeeds", async () => {
    const stepdown = new MongoServerError({ message: "not primary", code: 10107 });
    const { step, calls } = failing([new MongoNetworkError("connection reset"), stepdown]);
    expect(await retryTransient(step, { firstDelayMs: 1 })).toBe(3);
    expect(calls()).toBe(3);
  });

  it("does not repeat what is not transient: a refused write, or a server-selection timeout that already waited", async () => {
    for (const error of [new MongoServerError({ message: "E11000 duplicate key", code: 11000 }), new MongoServerSelectionError("no server", {} as never)]) {
      const { step, calls } = failing([error]);
      await expect(retryTransient(step, { firstDelayMs: 1 })).rejects.toBe(error);
      expect(calls()).toBe(1);
    }
  });

  it("stops at its budget and throws the last error", async () => {
    const errors = Array.from({ length: 100 }, (_, i) => new MongoNetworkError(`reset ${i}`));
    const { step, calls } = failing(errors);
    await expect(retryTransient(step, { firstDelayMs: 5, maxDelayMs: 5, budgetMs: 50 })).rejects.toBeInstanceOf(MongoNetworkError);
    expect(calls()).toBeGreaterThan(1);
    expect(calls()).toBeLessThanOrEqual(11);
  });
});
