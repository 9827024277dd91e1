/**
 * Tiers 2 and 3: the same RecordsService through an in-memory router
 * transport, then behind a real server on port 0, called by Connect clients
 * (gRPC and Connect protocols) and by a plain @grpc/grpc-js client.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { status as GrpcStatus } from "@grpc/grpc-js";
import { Int32, MongoClient } from "mongodb";
import { RecordsService as RecordsServiceImpl } from "../../services/records/records-service.js";
import { buildRecordsServer, type RunningRecordsServer } from "../../services/records/server.js";
import { collectionFor, ensureIndexes } from "../../services/records/store/collections.js";
import { openCursorCount } from "../../services/records/store/record-reader.js";
import { createGrpcJsClient } from "../support/grpc-js-client.js";
import { asServed } from "../support/served-records-service.js";
import { recordsErrorInterceptor } from "../../services/records/error-mapping.js";
import { CountRecordsRequestSchema, Entity, RecordsService, StreamRecordsRequestSchema, WriteMode, type EntityRecord } from "../../gen/dataexchange/records/v1/records_pb.js";
import { ENTITIES } from "../../services/domain/index.js";
import { decodeRecord, entityName, PlainEntityRecord } from "../../services/shared/records-wire/record-codec.js";
import { createRecordsClient } from "../../services/transfer/records/records-client.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { openTestDatabase, type TestDatabase } from "../support/database.js";
import { activityRecord, courseRecord, enrollmentRecord, sessionRecord, ts, userRecord, writeRequest } from "./fixtures.js";

let t: TestDatabase;

beforeAll(async () => {
  t = await openTestDatabase("records_rpc");
  await ensureIndexes(t.db);
});
afterAll(async () => t?.close());

async function exercise(client: Client<typeof RecordsService>, prefix: string) {
  const requests = (async function* () {
    yield writeRequest(
      Entity.USERS,
      Array.from({ length: 30 }, (_, i) => userRecord(`${prefix}${i}`)),
      { batchId: "first" },
    );
    yield writeRequest(Entity.USERS, [userRecord(`${prefix}0`), userRecord(`${prefix}bad`, { email: "bad" })], { batchId: "second" });
  })();
  const results = [];
  for await (const r of client.writeRecords(requests)) results.push(r);
  expect(results.map((r) => [r.batchId, r.inserted, r.failed])).toEqual([
    ["first", 30, 0],
    ["second", 0, 2],
  ]);
  // Every record arrives whole, in JSON as in binary (binary callers get records pre-encoded: records-wire/record-bytes.ts).
  const emails: string[] = [];
  for await (const batch of client.streamRecords({ entity: Entity.USERS, batchSize: 7, filter: { keys: Array.from({ length: 30 }, (_, i) => ({ parts: [`user${prefix}${i}@example.org`] })) } })) {
    expect(batch.records.length).toBeLessThanOrEqual(7);
    for (const record of batch.records) {
      expect(record.kind.case).toBe("user");
      if (record.kind.case === "user") emails.push(record.kind.value.email ?? "");
    }
  }
  expect(emails.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `user${prefix}${i}@example.org`).sort());
}

describe("through an in-memory router transport", () => {
  it("writes with a bidi stream and reads with a server stream", async () => {
    // Configured as server.ts configures its router: errors mapped by the service's interceptor.
    const transport = createRouterTransport(({ service }) => service(RecordsService, new RecordsServiceImpl(t.db)), { router: { interceptors: [recordsErrorInterceptor] } });
    await exercise(createClient(RecordsService, transport), "mem");
  });
});

describe("behind a real server on port 0", () => {
  let running: RunningRecordsServer;
  beforeAll(async () => {
    running = await buildRecordsServer({ db: t.db, port: 0 });
  });
  afterAll(async () => running?.close());

  it("answers a Connect client over gRPC (HTTP/2)", async () => {
    await exercise(createClient(RecordsService, createGrpcTransport({ baseUrl: running.url })), "grpc");
  });

  it("serves the transfer service's records client, which reads every streamed record straight to the plain record a reflective reader decodes", async () => {
    const client = createRecordsClient(running.url);
    const written = [];
    // Written in binary gRPC: the server reads these records straight from their bytes too (records/rpc/binary-callers.ts).
    const requests = (async function* () {
      yield writeRequest(
        Entity.USERS,
        Array.from({ length: 12 }, (_, i) => userRecord(`dx${i}`)),
        { batchId: "dx" },
      );
    })();
    for await (const r of client.writeRecords(requests)) written.push(r);
    expect(written.map((r) => [r.inserted, r.failed])).toEqual([[12, 0]]);
    const request = { entity: Entity.USERS, batchSize: 5, filter: { keys: Array.from({ length: 12 }, (_, i) => ({ parts: [`userdx${i}@example.org`] })) } };
    const read = async (c: Client<typeof RecordsService>) => {
      const records: EntityRecord[] = [];
      for await (const batch of c.streamRecords(request)) records.push(...batch.records);
      return records;
    };
    const fast = await read(client);
    expect(fast).toHaveLength(12);
    expect(fast.every((r) => r instanceof PlainEntityRecord)).toBe(true);
    const reflective = await read(createClient(RecordsService, createGrpcTransport({ baseUrl: running.url })));
    expect(fast.map((r) => decodeRecord(ENTITIES.users, r))).toEqual(reflective.map((r) => decodeRecord(ENTITIES.users, r)));
  });

  it("sends every entity's stored records to a binary caller, transcoded from the stored BSON, exactly as it decodes them for a JSON caller", async () => {
    const client = createRecordsClient(running.url);
    const requests = (async function* () {
      yield writeRequest(Entity.USERS, [userRecord("tx1", { password: "correct horse battery staple" }), userRecord("tx2", { lastName: "Łukasiewicz — ∑ 😀" })]);
      yield writeRequest(Entity.COURSES, [courseRecord("TX1", { visible: false, startDate: ts("1969-07-20T20:17:40.001Z") }), courseRecord("TX2")]);
      yield writeRequest(Entity.SESSIONS, [sessionRecord("tx-s1", "usertx1", "TX1", { score: 0, endedAt: ts("2024-01-01T11:00:00.5Z") }), sessionRecord("tx-s2", "usertx2", "TX2")]);
      yield writeRequest(Entity.ENROLLMENTS, [enrollmentRecord("usertx1", "TX1"), enrollmentRecord("usertx2", "TX1")]);
      yield writeRequest(Entity.ACTIVITY, [activityRecord("usertx1", { sessionId: "tx-s1", courseId: "TX1", details: { device: "phone" } }), activityRecord("usertx2", { sessionId: "tx-s2" })]);
    })();
    for await (const r of client.writeRecords(requests)) expect([r.inserted, r.failed]).toEqual([2, 0]);
    // A document no write would store: a whole-number score stored as int32, a key that is not the entity's, a time field holding text.
    await collectionFor(t.db, ENTITIES.sessions).insertOne({
      _id: "tx-s3" as never,
      sessionId: "tx-s3",
      userId: "usertx1",
      courseId: "TX1",
      score: new Int32(7),
      startedAt: "yesterday",
      stray: { x: 1 },
    });
    const json = createClient(RecordsService, createConnectTransport({ baseUrl: running.url, httpVersion: "2", useBinaryFormat: false }));
    const asRead = async (c: Client<typeof RecordsService>, entity: Entity, filter: MessageInitShape<typeof StreamRecordsRequestSchema>["filter"], fields: string[] = []) => {
      const records: Record<string, unknown>[] = [];
      for await (const batch of c.streamRecords({ entity, filter, fields, batchSize: 2 }))
        records.push(...batch.records.map((r) => decodeRecord(ENTITIES[entityName(entity)!], r)).map((d) => (d.ok ? d.record : d)));
      return records;
    };
    const reads: [Entity, MessageInitShape<typeof StreamRecordsRequestSchema>["filter"], string[]?][] = [
      [Entity.USERS, { keys: [{ parts: ["usertx1@example.org"] }, { parts: ["usertx2@example.org"] }] }],
      [Entity.COURSES, { keys: [{ parts: ["TX1"] }, { parts: ["TX2"] }] }],
      [Entity.SESSIONS, { keys: [{ parts: ["tx-s1"] }, { parts: ["tx-s2"] }, { parts: ["tx-s3"] }] }],
      [Entity.SESSIONS, { keys: [{ parts: ["tx-s1"] }] }, ["sessionId", "userEmail", "courseTitle", "activityIds"]],
      [Entity.ENROLLMENTS, { courseIds: ["TX1"] }],
      [Entity.ACTIVITY, { courseIds: ["TX1"] }],
      [Entity.ACTIVITY, { sessionIds: ["tx-s2"] }, ["id", "action"]],
    ];
    for (const [entity, filter, fields] of reads) {
      const binary = await asRead(client, entity, filter, fields);
      expect(binary.length).toBeGreaterThan(0);
      expect(binary).toEqual(await asRead(json, entity, filter, fields));
    }
    const [stray] = await asRead(client, Entity.SESSIONS, { keys: [{ parts: ["tx-s3"] }] });
    expect(stray).toEqual({ sessionId: "tx-s3", userId: "usertx1", courseId: "TX1", score: 7 });
    const users = await asRead(client, Entity.USERS, { keys: [{ parts: ["usertx1@example.org"] }] });
    expect(Object.keys(users[0]!)).not.toContain("password");
    const [activity] = await asRead(client, Entity.ACTIVITY, { sessionIds: ["tx-s2"] }, ["id"]);
    expect(activity!.id).toMatch(/^[0-9a-f]{24}$/);
  });

  it("answers a Connect client over the Connect protocol, in JSON and binary", async () => {
    // connect-node's default is binary: JSON is asked for explicitly.
    await exercise(createClient(RecordsService, createConnectTransport({ baseUrl: running.url, httpVersion: "2", useBinaryFormat: false })), "cjson");
    await exercise(createClient(RecordsService, createConnectTransport({ baseUrl: running.url, httpVersion: "2", useBinaryFormat: true })), "cbin");
  });

  it("answers a plain @grpc/grpc-js client: unary, server-streaming and bidi", async () => {
    const client = createGrpcJsClient(RecordsService, running.url);
    try {
      const call = client.writeRecords();
      await call.write(writeRequest(Entity.COURSES, [courseRecord("G1"), courseRecord("G2")], { batchId: "g" }));
      await call.write(writeRequest(Entity.COURSES, [courseRecord("G1")], { batchId: "again", mode: WriteMode.INSERT }));
      call.end();
      const results = [];
      for await (const r of call) results.push(r);
      expect(results.map((r) => [r.batchId, r.inserted, r.failed, r.errors[0]?.code ?? ""])).toEqual([
        ["g", 2, 0, ""],
        ["again", 0, 1, "exists"],
      ]);
      const codes: string[] = [];
      for await (const batch of client.streamRecords(create(StreamRecordsRequestSchema, { entity: Entity.COURSES, filter: { keys: [{ parts: ["G1"] }, { parts: ["G2"] }] } }))) {
        for (const r of batch.records) codes.push((r.kind.value as { code: string }).code);
      }
      expect(codes.sort()).toEqual(["G1", "G2"]);
      const count = await client.countRecords({ entity: Entity.COURSES, filter: { keys: [{ parts: ["G1"] }] } });
      expect(count.count).toBe(1n);
      const error = await client.getRecord({ entity: Entity.COURSES, key: { parts: ["NOPE"] } }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: GrpcStatus.NOT_FOUND });
      const invalid = await client.putRecord({ entity: Entity.COURSES, mode: WriteMode.INSERT, record: courseRecord("bad code!") }).catch((e: unknown) => e);
      expect(invalid).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT });
      expect(String((invalid as Error).message)).toContain("code must start with a letter or digit");
    } finally {
      client.close();
    }
  });

  it("refuses a record carrying a field this schema does not declare (a sender built from a newer records.proto), naming its number, and writes the others", async () => {
    const withUndeclared = (record: EntityRecord) => {
      // What a newer schema's field 99 of Course looks like on the wire to this one: kept aside by protobuf-es, sent on by toBinary.
      (record.kind.value as { $unknown?: unknown[] }).$unknown = [{ no: 99, wireType: WireType.LengthDelimited, data: new BinaryWriter().string("a newer field").finish() }];
      return record;
    };
    const client = createClient(RecordsService, createGrpcTransport({ baseUrl: running.url }));
    const results = [];
    const batch = writeRequest(Entity.COURSES, [withUndeclared(courseRecord("NEWER-1")), courseRecord("NEWER-2")], { batchId: "newer" });
    for await (const r of client.writeRecords(
      (async function* () {
        yield batch;
      })(),
    ))
      results.push(r);
    expect(results.map((r) => [r.inserted, r.failed, r.errors.map((e) => [e.index, e.field, e.code, e.reason])])).toEqual([
      [
        1,
        1,
        [
          [
            0,
            "record",
            "invalid",
            "the course record carries field number 99, which this service's records.proto does not declare (a sender built from a newer schema?); refused rather than taken without it",
          ],
        ],
      ],
    ]);
    const put = await client.putRecord({ entity: Entity.COURSES, mode: WriteMode.UPSERT, record: withUndeclared(courseRecord("NEWER-3")) }).catch((e: unknown) => e);
    expect(put).toMatchObject({ code: Code.InvalidArgument });
    const stored = await collectionFor(t.db, ENTITIES.courses)
      .find({ code: { $in: ["NEWER-1", "NEWER-2", "NEWER-3"] } })
      .toArray();
    expect(stored.map((d) => d.code)).toEqual(["NEWER-2"]);
  });

  it("refuses a request carrying a field this schema does not declare, unary or streamed, before anything is read or written", async () => {
    const client = createClient(RecordsService, createGrpcTransport({ baseUrl: running.url }));
    const undeclared = (no: number) => [{ no, wireType: WireType.Varint, data: new BinaryWriter().int32(1).finish() }];
    const count = create(CountRecordsRequestSchema, { entity: Entity.COURSES });
    (count as { $unknown?: unknown }).$unknown = undeclared(12);
    await expect(client.countRecords(count)).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage:
        "the request carries field number 12 of dataexchange.records.v1.CountRecordsRequest, which this service's protos do not declare (a client built from a newer schema?); refused rather than ignored",
    });
    const stream = create(StreamRecordsRequestSchema, { entity: Entity.COURSES, filter: { statuses: [] } });
    (stream.filter as { $unknown?: unknown }).$unknown = undeclared(40);
    await expect(
      (async () => {
        for await (const _ of client.streamRecords(stream)) break;
      })(),
    ).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("field number 40 of dataexchange.records.v1.Filter (at filter)") });
    const write = writeRequest(Entity.COURSES, [courseRecord("UNDECLARED-1")], { batchId: "w" });
    (write as { $unknown?: unknown }).$unknown = undeclared(30);
    const written = (async () => {
      for await (const _ of client.writeRecords(
        (async function* () {
          yield write;
        })(),
      ))
        break;
    })();
    await expect(written).rejects.toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("field number 30 of dataexchange.records.v1.WriteRecordsRequest") });
    expect(await collectionFor(t.db, ENTITIES.courses).countDocuments({ code: "UNDECLARED-1" })).toBe(0);
  });

  it("closes the database cursor when a grpc-js caller cancels mid-stream", async () => {
    const client = createGrpcJsClient(RecordsService, running.url);
    const before = openCursorCount();
    try {
      let batches = 0;
      for await (const _batch of client.streamRecords(create(StreamRecordsRequestSchema, { entity: Entity.USERS, batchSize: 1 }))) {
        if (++batches === 2) break;
      }
      const deadline = Date.now() + 5_000;
      while (openCursorCount() !== before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(openCursorCount()).toBe(before);
    } finally {
      client.close();
    }
  });

  it("closes the database cursor when a Connect caller aborts mid-stream", async () => {
    const client = createClient(RecordsService, createGrpcTransport({ baseUrl: running.url }));
    const before = openCursorCount();
    const controller = new AbortController();
    const error = await (async () => {
      for await (const _batch of client.streamRecords({ entity: Entity.USERS, batchSize: 1 }, { signal: controller.signal })) controller.abort();
    })().catch((e: unknown) => e);
    expect(ConnectError.from(error).code).toBe(Code.Canceled);
    const deadline = Date.now() + 5_000;
    while (openCursorCount() !== before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(openCursorCount()).toBe(before);
  });

  it("reports SERVING on grpc.health.v1", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: running.url }));
    expect((await health.check({ service: "dataexchange.records.v1.RecordsService" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });
});

describe("when the database is down", () => {
  it("answers UNAVAILABLE with a clear message", async () => {
    const client = new MongoClient("mongodb://127.0.0.1:1/", { serverSelectionTimeoutMS: 300 });
    const service = asServed(new RecordsServiceImpl(client.db("nowhere")));
    const error = await service.countRecords(create((await import("../../gen/dataexchange/records/v1/records_pb.js")).CountRecordsRequestSchema, { entity: Entity.USERS })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Unavailable);
    expect((error as ConnectError).rawMessage).toBe("the database is unavailable; try again later");
    expect((error as ConnectError).cause).toBeDefined();
    await client.close();
  });
});
