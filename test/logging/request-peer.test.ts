/**
 * Each service's line per request says who called (`peer`, the caller's
 * address and port as the server's socket sees it), whichever way the call
 * came: gRPC (Connect or @grpc/grpc-js), the Connect protocol over HTTP/1.1,
 * or the transfer service's plain HTTP routes. Both servers run in-process
 * on the run's FerretDB with the `logger` their main() gives them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { Entity, RecordsService } from "../../gen/dataexchange/records/v1/records_pb.js";
import { TransferService } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { buildRecordsServer, type RunningRecordsServer } from "../../services/records/server.js";
import { ensureIndexes } from "../../services/records/store/collections.js";
import { createGrpcJsClient } from "../support/grpc-js-client.js";
import { buildTransferServer, type RunningTransferServer } from "../../services/transfer/server.js";
import { openTestDatabase, type TestDatabase } from "../support/database.js";
import { memoryLogger } from "../support/memory-logger.js";

/** The request line matching `pick`, waiting for it: a plain HTTP line is written when the server sees the response close. */
async function lineOf(logger: ReturnType<typeof memoryLogger>, pick: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  for (;;) {
    const line = logger.lines().find(pick);
    if (line) return line;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const peerShape = /^127\.0\.0\.1:\d+$/;
let recordsDb: TestDatabase;
let transferDb: TestDatabase;
let records: RunningRecordsServer;
let transfer: RunningTransferServer;
const recordsLog = memoryLogger({ service: "records", level: "info" });
const transferLog = memoryLogger({ service: "transfer", level: "info" });

beforeAll(async () => {
  recordsDb = await openTestDatabase("peer_records");
  transferDb = await openTestDatabase("peer_jobs");
  await ensureIndexes(recordsDb.db);
  records = await buildRecordsServer({ db: recordsDb.db, port: 0, logger: recordsLog.log });
  transfer = await buildTransferServer({ db: transferDb.db, recordsUrl: records.url, port: 0, logger: transferLog.log });
});
afterAll(async () => {
  await transfer?.close();
  await records?.close();
  await transferDb?.close();
  await recordsDb?.close();
});

describe("the records service's request line", () => {
  it("carries the caller's address for a gRPC call, a Connect call and a @grpc/grpc-js call", async () => {
    await createClient(RecordsService, createGrpcTransport({ baseUrl: records.url })).countRecords({ entity: Entity.USERS });
    await createClient(RecordsService, createConnectTransport({ baseUrl: records.url, httpVersion: "1.1" })).countRecords({ entity: Entity.COURSES });
    const grpcJs = createGrpcJsClient(RecordsService, records.url.replace("http://", ""));
    try {
      await grpcJs.countRecords({ entity: Entity.SESSIONS });
    } finally {
      grpcJs.close();
    }
    const lines = recordsLog.lines().filter((l) => l.rpc === "dataexchange.records.v1.RecordsService/CountRecords");
    expect(lines.map((l) => l.protocol)).toEqual(["grpc", "connect", "grpc"]);
    for (const line of lines) expect(line.peer).toMatch(peerShape);
    // Three connections, three client ports.
    expect(new Set(lines.map((l) => l.peer)).size).toBe(3);
  });
});

describe("the transfer service's request line", () => {
  it("carries the caller's address for a gRPC call and a Connect call", async () => {
    await createClient(TransferService, createGrpcTransport({ baseUrl: transfer.url })).listFormats({});
    await createClient(TransferService, createConnectTransport({ baseUrl: transfer.url, httpVersion: "1.1" })).listFormats({});
    const lines = transferLog.lines().filter((l) => l.rpc === "dataexchange.transfer.v1.TransferService/ListFormats");
    expect(lines.map((l) => l.protocol)).toEqual(["grpc", "connect"]);
    for (const line of lines) expect(line.peer).toMatch(peerShape);
  });

  it("carries the caller's address for a plain HTTP route, and the records call it makes carries the transfer service's", async () => {
    const res = await fetch(`${transfer.url}/export/csv?entity=courses`);
    expect(res.status).toBe(200);
    await res.text();
    const line = await lineOf(transferLog, (l) => l.http === "GET /export/csv");
    expect(line).toMatchObject({ msg: "http", status: 200 });
    expect(line.peer).toMatch(peerShape);
    const recordsCall = await lineOf(recordsLog, (l) => l.rpc === "dataexchange.records.v1.RecordsService/StreamRecords");
    expect(recordsCall.peer).toMatch(peerShape);
  });
});
