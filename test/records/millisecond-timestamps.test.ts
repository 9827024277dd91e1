/**
 * A google.protobuf.Timestamp carries nanoseconds; a stored time keeps
 * milliseconds. Protobuf-ES's `timestampDate` rounds the difference away, so
 * a record written at 10:00:00.000999999 was stored at 10:00:00.001 and a
 * filter bound of 10:00:00.0005 selected a record stamped before it, both
 * silently. Behind a real server, in binary gRPC (whose records are read
 * straight from their bytes) and in Connect's JSON: a time a millisecond holds
 * is taken, any other is refused naming its field.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { buildRecordsServer, type RunningRecordsServer } from "../../services/records/server.js";
import { ensureIndexes } from "../../services/records/store/collections.js";
import { Entity, RecordsService, WriteMode } from "../../gen/dataexchange/records/v1/records_pb.js";
import { openTestDatabase, type TestDatabase } from "../support/database.js";
import { courseRecord, sessionRecord, userRecord, writeRequest } from "./fixtures.js";

let t: TestDatabase;
let running: RunningRecordsServer;
beforeAll(async () => {
  t = await openTestDatabase("records_ms_timestamps");
  await ensureIndexes(t.db);
  running = await buildRecordsServer({ db: t.db, port: 0 });
});
afterAll(async () => {
  await running?.close();
  await t?.close();
});

/** 2024-03-07T10:00:00Z plus `nanos`. */
function at(nanos: number): Timestamp {
  return { ...timestampFromDate(new Date("2024-03-07T10:00:00Z")), nanos };
}

async function writeAll(client: Client<typeof RecordsService>, ...requests: ReturnType<typeof writeRequest>[]) {
  const out = [];
  for await (const r of client.writeRecords(
    (async function* () {
      yield* requests;
    })(),
  ))
    out.push(r);
  return out;
}

describe.each([
  ["binary gRPC", () => createGrpcTransport({ baseUrl: running.url })],
  ["Connect JSON", () => createConnectTransport({ baseUrl: running.url, httpVersion: "2", useBinaryFormat: false })],
])("over %s", (name, transport) => {
  const p = name.startsWith("binary") ? "b" : "j";
  let client: Client<typeof RecordsService>;
  beforeAll(async () => {
    client = createClient(RecordsService, transport());
    await writeAll(client, writeRequest(Entity.USERS, [userRecord(`ms${p}`)]), writeRequest(Entity.COURSES, [courseRecord(`MS-${p}`)]));
  });

  it("writes a session whose time a millisecond holds exactly, and refuses one finer than a millisecond, naming its field", async () => {
    const [result] = await writeAll(
      client,
      writeRequest(Entity.SESSIONS, [
        sessionRecord(`exact-${p}`, `userms${p}`, `MS-${p}`, { startedAt: at(123_000_000) }),
        sessionRecord(`finer-${p}`, `userms${p}`, `MS-${p}`, { startedAt: at(999_999_999) }),
      ]),
    );
    expect([result!.inserted, result!.failed]).toEqual([1, 1]);
    expect(result!.errors.map((e) => ({ index: e.index, field: e.field, code: e.code, reason: e.reason }))).toEqual([
      {
        index: 1,
        field: "startedAt",
        code: "invalid",
        reason: "startedAt is more precise than milliseconds (999999999 nanoseconds past the second), which is what a stored time keeps: round it to whole milliseconds",
      },
    ]);
    const stored = await t.db.collection("sessions").findOne({ sessionId: `exact-${p}` });
    expect((stored!.startedAt as Date).toISOString()).toBe("2024-03-07T10:00:00.123Z");
    expect(await t.db.collection("sessions").countDocuments({ sessionId: `finer-${p}` })).toBe(0);
  });

  it("refuses PutRecord of a record finer than a millisecond with INVALID_ARGUMENT naming the field", async () => {
    const record = sessionRecord(`put-${p}`, `userms${p}`, `MS-${p}`, { endedAt: at(500_000) });
    const error = await client.putRecord({ entity: Entity.SESSIONS, mode: WriteMode.UPSERT, record }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(error?.code).toBe(Code.InvalidArgument);
    expect(error?.rawMessage).toBe("endedAt is more precise than milliseconds (500000 nanoseconds past the second), which is what a stored time keeps: round it to whole milliseconds");
  });

  it("refuses a filter bound finer than a millisecond, saying which whole millisecond selects the same records", async () => {
    const reading = async () => {
      for await (const _ of client.streamRecords({ entity: Entity.SESSIONS, filter: { timeRanges: [{ field: "startedAt", from: at(500_000) }] } })) void _;
    };
    await expect(reading()).rejects.toThrow(
      "filter.time_ranges[0].from is more precise than milliseconds (500000 nanoseconds past the second), which is what a stored time keeps: give it in whole milliseconds (2024-03-07T10:00:00.001Z selects the same records)",
    );
    const deletions = async () => {
      for await (const _ of client.streamDeletions({ entity: Entity.USERS, since: at(1) })) void _;
    };
    await expect(deletions()).rejects.toThrow(/since is more precise than milliseconds/);
  });
});
