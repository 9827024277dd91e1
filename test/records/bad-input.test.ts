/**
 * Hostile and malformed values sent through the service in real batches: each
 * gets a per-record error naming the field, the rest of the batch is handled
 * as its mode says, and nothing crashes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordsService } from "../../services/records/records-service.js";
import { ensureIndexes } from "../../services/records/store/collections.js";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { Entity, StreamRecordsRequestSchema, WriteMode } from "../../gen/dataexchange/records/v1/records_pb.js";
import { openTestDatabase, type TestDatabase } from "../support/database.js";
import { asServed } from "../support/served-records-service.js";
import { activityRecord, collect, courseRecord, fromArray, handlerContext, sessionRecord, userRecord, writeRequest } from "./fixtures.js";

let t: TestDatabase;
let service: RecordsService;

beforeAll(async () => {
  t = await openTestDatabase("records_bad");
  await ensureIndexes(t.db);
  service = asServed(new RecordsService(t.db));
  await collect(service.writeRecords(fromArray([writeRequest(Entity.USERS, [userRecord("ok")]), writeRequest(Entity.COURSES, [courseRecord("C1")])]), handlerContext()));
});
afterAll(async () => t?.close());

async function writeOne(request: ReturnType<typeof writeRequest>) {
  const [result] = await collect(service.writeRecords(fromArray([request]), handlerContext()));
  return result!;
}

const hostile: [string, ReturnType<typeof activityRecord> | ReturnType<typeof userRecord>, Entity, string, string][] = [
  ["a NUL character in a name", userRecord("nul", { firstName: "Ada\u0000Lovelace" }), Entity.USERS, "firstName", "must not contain NUL characters"],
  ["a NUL character in a key", userRecord("nul2", { email: "nul\u0000@example.org" }), Entity.USERS, "email", "must not contain NUL characters"],
  ["a 1 MB string", userRecord("long", { lastName: "x".repeat(1_000_000) }), Entity.USERS, "lastName", "must be at most 200 characters"],
  ["a NaN score", sessionRecord("nan", "userok", "C1", { score: Number.NaN }), Entity.SESSIONS, "score", "got NaN"],
  ["an infinite score", sessionRecord("inf", "userok", "C1", { score: Number.POSITIVE_INFINITY }), Entity.SESSIONS, "score", "got Infinity"],
  ["a details key with a dot", activityRecord("userok", { details: { "a.b": 1 } }), Entity.ACTIVITY, "details", 'must not contain "."'],
  ["a details key starting with $", activityRecord("userok", { details: { $gt: 1 } }), Entity.ACTIVITY, "details", 'must not start with "$"'],
  ["a nested list in details", activityRecord("userok", { details: { m: [[1]] } }), Entity.ACTIVITY, "details.m.0", "lists inside lists"],
  ["an unknown role", userRecord("role", { role: "root" }), Entity.USERS, "role", "must be one of"],
];

describe("hostile values in a batch", () => {
  it.each(hostile)("refuses %s with a per-record error and writes the valid neighbours", async (_name, bad, entity, field, reason) => {
    const good =
      entity === Entity.USERS
        ? userRecord(`n${Math.random().toString(36).slice(2, 8)}`)
        : entity === Entity.SESSIONS
          ? sessionRecord(`g${Math.random().toString(36).slice(2, 8)}`, "userok", "C1")
          : activityRecord("userok");
    const result = await writeOne(writeRequest(entity, [good, bad, good.kind.case === "activity" ? activityRecord("userok") : good], { mode: WriteMode.INSERT }));
    expect(
      result.errors.some((e) => e.index === 1 && e.field === field && e.reason.includes(reason) && e.code === "invalid"),
      JSON.stringify(result.errors),
    ).toBe(true);
    expect(result.failed).toBeGreaterThanOrEqual(1);
    expect(result.inserted).toBeGreaterThanOrEqual(1);
  });

  it("stores nothing of a refused record", async () => {
    await writeOne(writeRequest(Entity.USERS, [userRecord("ghost", { firstName: "a\u0000b" })]));
    expect(await t.db.collection("users").countDocuments({ username: "userghost" })).toBe(0);
  });

  it("handles a batch where every record is bad without failing the stream", async () => {
    const results = await collect(
      service.writeRecords(
        fromArray([
          writeRequest(Entity.USERS, [userRecord("b1", { email: "bad" }), userRecord("b2", { role: "x" })], { batchId: "bad" }),
          writeRequest(Entity.USERS, [userRecord("after")], { batchId: "next" }),
        ]),
        handlerContext(),
      ),
    );
    expect(results.map((r) => [r.batchId, r.inserted, r.failed])).toEqual([
      ["bad", 0, 2],
      ["next", 1, 0],
    ]);
  });
});

describe("a read limit past what a number holds", () => {
  it("is INVALID_ARGUMENT naming limit, not an internal error from the driver", async () => {
    for (const limit of [2n ** 63n, 2n ** 64n - 1n, BigInt(Number.MAX_SAFE_INTEGER) + 1n]) {
      const error = await collect(service.streamRecords(create(StreamRecordsRequestSchema, { entity: Entity.USERS, limit }), handlerContext())).catch((e: unknown) => ConnectError.from(e));
      expect(error).toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining("limit must be at most 9007199254740991") });
    }
    const read = await collect(service.streamRecords(create(StreamRecordsRequestSchema, { entity: Entity.USERS, limit: BigInt(Number.MAX_SAFE_INTEGER) }), handlerContext()));
    expect(read.flatMap((r) => r.records).length).toBeGreaterThan(0);
  });
});
