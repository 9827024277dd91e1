/**
 * Audit events carry the OpenTelemetry trace id of the call that caused
 * them: a traced client's export at the transfer service, and the records
 * service's write events of a traced PutRecord.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { AuditAction } from "../../../gen/dataexchange/audit/v1/audit_pb.js";
import { Entity, RecordsService, WriteMode } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { TransferService } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { buildRecordsServer, type RunningRecordsServer } from "../../../services/records/server.js";
import { ensureIndexes } from "../../../services/records/store/collections.js";
import { buildTransferServer, type RunningTransferServer } from "../../../services/transfer/server.js";
import { createTracingClientInterceptor, createTracingServerInterceptor, startTelemetry, withSpan, type Telemetry } from "../../../services/shared/telemetry/index.js";
import { openTestDatabase, type TestDatabase } from "../../support/database.js";
import { withTestFormatWorkers } from "../../support/format-workers.js";
import { courseRecord } from "../../records/fixtures.js";
import { exportFile } from "../rpc/harness.js";

let telemetry: Telemetry;
let recordsDb: TestDatabase;
let transferDb: TestDatabase;
let records: RunningRecordsServer;
let transfer: RunningTransferServer;

beforeAll(async () => {
  telemetry = startTelemetry({ serviceName: "audit-trace-test", exporter: new InMemorySpanExporter(), env: {} });
  recordsDb = await openTestDatabase("audit_trace_r");
  transferDb = await openTestDatabase("audit_trace_t");
  await ensureIndexes(recordsDb.db);
  records = await buildRecordsServer({ db: recordsDb.db, port: 0, interceptors: [createTracingServerInterceptor()] });
  transfer = await buildTransferServer({
    db: transferDb.db,
    recordsUrl: records.url,
    config: withTestFormatWorkers(),
    port: 0,
    interceptors: [createTracingServerInterceptor()],
    recordsInterceptors: [createTracingClientInterceptor()],
    log: () => undefined,
  });
});
afterAll(async () => {
  await transfer?.close();
  await records?.close();
  await transferDb?.close();
  await recordsDb?.close();
  await telemetry?.shutdown();
});

describe("trace ids on audit events", () => {
  it("name the trace of the export and of the put that caused them", async () => {
    const interceptors = [createTracingClientInterceptor()];
    const recordsClient = createClient(RecordsService, createGrpcTransport({ baseUrl: records.url, interceptors }));
    const transferClient = createClient(TransferService, createGrpcTransport({ baseUrl: transfer.url, interceptors }));
    let putTrace = "";
    let exportTrace = "";
    await withSpan("test.put", {}, async (span) => {
      putTrace = span.spanContext().traceId;
      await recordsClient.putRecord({ entity: Entity.COURSES, mode: WriteMode.UPSERT, record: courseRecord("TRACE-1") });
    });
    await withSpan("test.export", {}, async (span) => {
      exportTrace = span.spanContext().traceId;
      await exportFile(transferClient, { entity: Entity.COURSES, format: "csv" });
    });
    const [put] = (await recordsClient.listAuditEvents({ filter: { action: AuditAction.PUT } })).events;
    expect(put!.traceId).toBe(putTrace);
    const [exported] = (await transferClient.listAuditEvents({ filter: { action: AuditAction.EXPORT } })).events;
    expect(exported!.traceId).toBe(exportTrace);
    expect(exportTrace).toMatch(/^[0-9a-f]{32}$/);
  });
});
