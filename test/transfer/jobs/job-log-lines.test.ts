/**
 * Every log line of a job carries its job_id, on both services: the transfer
 * service's RPC line and the job's own lines, and the records service's lines
 * for the calls the transfer service makes for that job. Both services run
 * in-process with authentication on (the records service believes a job id
 * only from the transfer service's service identity), each with its logger as
 * main() gives it, kept in memory.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Entity, WriteMode } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { TransferService } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { buildRecordsServer, type RunningRecordsServer } from "../../../services/records/server.js";
import { ensureIndexes } from "../../../services/records/store/collections.js";
import { buildTransferServer, type RunningTransferServer } from "../../../services/transfer/server.js";
import { staticCredential } from "../../../services/transfer/records/service-credential.js";
import { RECORDS_AUDIENCE, TRANSFER_AUDIENCE, edKeys, token, verifierFor } from "../../auth/support.js";
import { openTestDatabase, type TestDatabase } from "../../support/database.js";
import { exportFile, importFile, type TransferClient } from "../rpc/harness.js";
import { memoryLogger } from "../../support/memory-logger.js";

const keys = edKeys();

let recordsDb: TestDatabase;
let transferDb: TestDatabase;
let records: RunningRecordsServer;
let transfer: RunningTransferServer;
let client: TransferClient;
const recordsLog = memoryLogger({ service: "records", level: "info" });
const transferLog = memoryLogger({ service: "transfer", level: "info" });

beforeAll(async () => {
  recordsDb = await openTestDatabase("joblog_records");
  transferDb = await openTestDatabase("joblog_jobs");
  await ensureIndexes(recordsDb.db);
  records = await buildRecordsServer({ db: recordsDb.db, port: 0, auth: { verifier: verifierFor(keys, RECORDS_AUDIENCE) }, logger: recordsLog.log });
  transfer = await buildTransferServer({
    db: transferDb.db,
    recordsUrl: records.url,
    port: 0,
    auth: {
      verifier: verifierFor(keys, TRANSFER_AUDIENCE),
      serviceCredential: staticCredential(() => token(keys, { roles: ["service"], sub: "transfer-service", aud: RECORDS_AUDIENCE }), "test service token"),
    },
    logger: transferLog.log,
  });
  client = createClient(TransferService, createGrpcTransport({ baseUrl: transfer.url }));
});

afterAll(async () => {
  await transfer?.close();
  await records?.close();
  await transferDb?.close();
  await recordsDb?.close();
});

async function bearer(roles: string[]): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await token(keys, { roles, sub: "ada", aud: TRANSFER_AUDIENCE })}` };
}

const rpc = (name: string) => (line: Record<string, unknown>) => line.rpc === `dataexchange.records.v1.RecordsService/${name}` || line.rpc === `dataexchange.transfer.v1.TransferService/${name}`;

describe("the log lines of a job", () => {
  it("carry the import's job id on the transfer RPC line and on the records calls made for it", async () => {
    const csv = `username,email,firstName,lastName,role,status\n${Array.from({ length: 30 }, (_, i) => `joblog${i},joblog${i}@example.org,Ada,L${i},student,active`).join("\n")}`;
    const result = await importFile(client, { entity: Entity.USERS, format: "csv", mode: WriteMode.INSERT }, csv, { headers: await bearer(["admin", "pii"]) });
    expect(result.summary?.inserted).toBe(30n);
    expect(result.jobId).not.toBe("");

    const transferLine = transferLog.lines().filter(rpc("Import"));
    expect(transferLine).toHaveLength(1);
    expect(transferLine[0]).toMatchObject({ code: "ok", job_id: result.jobId });

    const writes = recordsLog.lines().filter(rpc("WriteRecords"));
    expect(writes.length).toBeGreaterThan(0);
    for (const line of writes) expect(line.job_id).toBe(result.jobId);
  });

  it("carry the export's job id, and a second job's lines carry the second id", async () => {
    const first = await exportFile(client, { entity: Entity.USERS, format: "csv" }, await bearer(["exporter"]));
    const second = await exportFile(client, { entity: Entity.USERS, format: "ndjson" }, await bearer(["exporter"]));
    expect(first.header.jobId).not.toBe(second.header.jobId);

    const exports = transferLog.lines().filter(rpc("Export"));
    expect(exports.map((l) => l.job_id)).toEqual([first.header.jobId, second.header.jobId]);
    const streams = recordsLog.lines().filter(rpc("StreamRecords"));
    expect(streams.map((l) => l.job_id)).toEqual([first.header.jobId, second.header.jobId]);
  });

  it("carry no job id on calls that are not part of a job", async () => {
    await client.listFormats({}, { headers: await bearer(["exporter"]) });
    const line = transferLog.lines().filter(rpc("ListFormats")).at(-1);
    expect(line).toBeDefined();
    expect(line).not.toHaveProperty("job_id");
  });

  it("believe a job id header at the records service only from the transfer service's identity", async () => {
    const recordsClient = createClient((await import("../../../gen/dataexchange/records/v1/records_pb.js")).RecordsService, createGrpcTransport({ baseUrl: records.url }));
    const userToken = await token(keys, { roles: ["admin"], sub: "mallory", aud: RECORDS_AUDIENCE });
    await recordsClient.countRecords({ entity: Entity.USERS }, { headers: { authorization: `Bearer ${userToken}`, "x-dx-job-id": "made-up-job" } });
    const line = recordsLog.lines().filter(rpc("CountRecords")).at(-1);
    expect(line).toBeDefined();
    expect(line).not.toHaveProperty("job_id");
  });
});
