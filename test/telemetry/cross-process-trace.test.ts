/**
 * One trace id across processes: this test's Connect client (client
 * interceptor, in-memory exporter) calls services that each run in a process
 * of their own, started as production starts them with the telemetry preload
 * and DX_TRACE_FILE set; their spans are read back from that file. The
 * parent links must chain client span → server span → (records client span →
 * records server span →) MongoDB command spans.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { MongoClient } from "mongodb";
import { Entity, RecordsService } from "../../gen/dataexchange/records/v1/records_pb.js";
import { TransferService } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { AUDIENCES, ensureDevKeys, signDevToken } from "../../services/shared/auth/index.js";
import { createTracingClientInterceptor, readSpanFile, startTelemetry, toFileSpan, withSpan, type FileSpan, type Telemetry } from "../../services/shared/telemetry/index.js";
import { fromArray, userRecord, writeRequest } from "../records/fixtures.js";
import { scanForSecrets } from "../logging/scan-for-secrets.js";
import { recordPrivateKey, recordSecret } from "../support/run-secrets.js";
import { repositoryRoot, startServiceProcess, type ServiceProcess } from "./service-process.js";

const RECORDS_ENTRY = "services/records/server.ts";
const TRANSFER_ENTRY = "services/transfer/server.ts";
const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
let dir: string;
let token: string;
const databases: string[] = [];

beforeAll(async () => {
  telemetry = startTelemetry({ serviceName: "test-client", exporter });
  dir = mkdtempSync(join(tmpdir(), "dx-trace-"));
  const keys = ensureDevKeys(join(dir, "keys"));
  // The services run in dev mode on these keys; both the key and the token must stay out of their logs.
  recordPrivateKey(keys.privateKey);
  token = recordSecret("token", await signDevToken({ roles: ["admin"], audience: [AUDIENCES.records, AUDIENCES.transfer], keys }));
});
afterAll(async () => {
  await telemetry?.shutdown();
  const client = new MongoClient(inject("mongoUri"));
  try {
    for (const name of databases)
      await client
        .db(name)
        .dropDatabase()
        .catch(() => undefined);
  } finally {
    await client.close();
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Environment every service process gets: its database, the trace file, dev-mode auth with the test's keys. */
function serviceEnv(traceFile: string, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    MONGODB_URI: inject("mongoUri"),
    DX_TRACE_FILE: traceFile,
    OTEL_EXPORTER_OTLP_ENDPOINT: "",
    DX_AUTH_DEV: "1",
    DX_DEV_KEYS_DIR: join(dir, "keys"),
    LOG_LEVEL: "info",
    ...extra,
  };
}

function uniqueDatabase(prefix: string): string {
  const name = `${prefix}_${randomBytes(5).toString("hex")}`;
  databases.push(name);
  return name;
}

/** Every span of `traceId`: this process's and those in the trace file. */
async function traceSpans(traceFile: string, traceId: string, enough: (spans: FileSpan[]) => boolean): Promise<FileSpan[]> {
  return traceSpansFrom(() => readSpanFile(traceFile), traceId, enough);
}

/** Polls until `enough` holds (or 10 s pass): the services export each span moments after it ends. */
async function traceSpansFrom(read: () => FileSpan[], traceId: string, enough: (spans: FileSpan[]) => boolean): Promise<FileSpan[]> {
  let spans: FileSpan[] = [];
  const deadline = Date.now() + 10_000;
  do {
    const local = exporter.getFinishedSpans().map(toFileSpan);
    spans = [...local, ...read()].filter((s) => s.traceId === traceId);
    if (enough(spans)) return spans;
    await new Promise((r) => setTimeout(r, 100));
  } while (Date.now() < deadline);
  return spans;
}

/** True when `span` is `ancestorId` or has it among its ancestors. */
function descendsFrom(spans: FileSpan[], span: FileSpan, ancestorId: string): boolean {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  for (let current: FileSpan | undefined = span; current; current = current.parentSpanId ? byId.get(current.parentSpanId) : undefined) {
    if (current.spanId === ancestorId) return true;
  }
  return false;
}

const isMongo = (s: FileSpan) => s.attributes["db.system.name"] === "mongodb" || s.attributes["db.system"] === "mongodb";
const rpcSpan = (spans: FileSpan[], kind: "CLIENT" | "SERVER", method: string, service?: string) =>
  spans.find((s) => s.kind === kind && s.name.endsWith(`/${method}`) && (service === undefined || s.service === service));

describe("a trace across the test client and the records service process", () => {
  let records: ServiceProcess;
  const traceFile = () => join(dir, "records.jsonl");

  beforeAll(async () => {
    records = await startServiceProcess({
      entry: RECORDS_ENTRY,
      portVariable: "RECORDS_PORT",
      env: serviceEnv(traceFile(), { RECORDS_DATABASE: uniqueDatabase("trace_records") }),
    });
  });
  afterAll(async () => records?.stop());

  it("links client span → records server span → MongoDB command spans under one trace id", async () => {
    const client = createClient(RecordsService, createGrpcTransport({ baseUrl: records.url, interceptors: [createTracingClientInterceptor()] }));
    const headers = { authorization: `Bearer ${token}` };
    let traceId = "";
    await withSpan("test.records-roundtrip", {}, async (root) => {
      traceId = root.spanContext().traceId;
      const requests = fromArray([writeRequest(Entity.USERS, [userRecord("x1"), userRecord("x2"), userRecord("x3")], { batchId: "t" })]);
      for await (const result of client.writeRecords(requests, { headers })) expect(result.inserted).toBe(3);
      let read = 0;
      for await (const batch of client.streamRecords({ entity: Entity.USERS, batchSize: 2 }, { headers })) read += batch.records.length;
      expect(read).toBe(3);
    });

    const spans = await traceSpans(traceFile(), traceId, (all) => ["WriteRecords", "StreamRecords"].every((m) => rpcSpan(all, "SERVER", m)) && all.filter(isMongo).length >= 2);
    for (const method of ["WriteRecords", "StreamRecords"]) {
      const clientSpan = rpcSpan(spans, "CLIENT", method, "test-client");
      const serverSpan = rpcSpan(spans, "SERVER", method, "dataexchange-records");
      expect(clientSpan, `client span of ${method}`).toBeDefined();
      expect(serverSpan, `records server span of ${method} in ${traceFile()}`).toBeDefined();
      expect(serverSpan!.parentSpanId).toBe(clientSpan!.spanId);
      const mongo = spans.filter((s) => isMongo(s) && descendsFrom(spans, s, serverSpan!.spanId));
      expect(mongo.length, `MongoDB spans under ${method}`).toBeGreaterThan(0);
      for (const span of mongo) {
        expect(span.kind).toBe("CLIENT");
        expect(span.service).toBe("dataexchange-records");
      }
    }
    const ops = spans.filter(isMongo).map((s) => String(s.attributes["db.operation.name"] ?? s.attributes["db.operation"]));
    expect(ops).toEqual(expect.arrayContaining(["insert", "find"]));
    // Every MongoDB span of this trace hangs under one of the two server spans.
    const servers = ["WriteRecords", "StreamRecords"].map((m) => rpcSpan(spans, "SERVER", m)!.spanId);
    for (const span of spans.filter(isMongo)) expect(servers.some((id) => descendsFrom(spans, span, id))).toBe(true);
  });

  it("continues the trace of a @grpc/grpc-js caller instrumented by the preload, in a third process", async () => {
    const callerTraceFile = join(dir, "grpc-js-caller.jsonl");
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "--import", "./services/shared/telemetry/register.mjs", "test/telemetry/fixtures/grpc-js-caller.ts", records.url, token],
      { cwd: repositoryRoot, env: { ...process.env, DX_TRACE_FILE: callerTraceFile, OTEL_EXPORTER_OTLP_ENDPOINT: "" }, timeout: 30_000 },
    );
    const traceId = /trace ([0-9a-f]{32})/.exec(stdout)?.[1];
    expect(stdout).toMatch(/count \d+/);
    expect(traceId).toBeDefined();
    const callerSpans = readSpanFile(callerTraceFile).filter((s) => s.traceId === traceId);
    const grpcClientSpan = callerSpans.find((s) => s.kind === "CLIENT" && s.scope === "@opentelemetry/instrumentation-grpc");
    expect(grpcClientSpan, `grpc-js client span in ${JSON.stringify(readSpanFile(callerTraceFile).map((s) => [s.name, s.scope]))}`).toBeDefined();
    const spans = await traceSpans(traceFile(), traceId!, (all) => rpcSpan(all, "SERVER", "CountRecords") !== undefined);
    const serverSpan = rpcSpan(spans, "SERVER", "CountRecords", "dataexchange-records");
    expect(serverSpan?.parentSpanId).toBe(grpcClientSpan!.spanId);
    expect(serverSpan?.attributes["rpc.system"]).toBe("grpc");
  });

  it("logs JSON lines with the trace id and never the token", async () => {
    const logged = records
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const rpcLines = logged.filter((l) => typeof l.rpc === "string" && String(l.rpc).startsWith("dataexchange.records.v1.RecordsService/"));
    expect(rpcLines.length).toBeGreaterThanOrEqual(2);
    for (const line of rpcLines) expect(line.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(scanForSecrets(records.output(), [token])).toEqual([]);
    expect(scanForSecrets(JSON.stringify(readSpanFile(traceFile())), [token])).toEqual([]);
  });
});

describe("a trace across the test client, the transfer service process and the records service process", () => {
  let records: ServiceProcess;
  let transfer: ServiceProcess;
  const recordsTraceFile = () => join(dir, "chain-records.jsonl");
  const transferTraceFile = () => join(dir, "chain-transfer.jsonl");

  beforeAll(async () => {
    records = await startServiceProcess({
      entry: RECORDS_ENTRY,
      portVariable: "RECORDS_PORT",
      env: serviceEnv(recordsTraceFile(), { RECORDS_DATABASE: uniqueDatabase("trace_chain_records") }),
    });
    transfer = await startServiceProcess({
      entry: TRANSFER_ENTRY,
      portVariable: "TRANSFER_PORT",
      env: serviceEnv(transferTraceFile(), { TRANSFER_RECORDS_URL: records.url, TRANSFER_DATABASE: uniqueDatabase("trace_chain_transfer") }),
    });
    // Some users to export, written outside the trace under test.
    const seed = createClient(RecordsService, createGrpcTransport({ baseUrl: records.url }));
    const requests = fromArray([writeRequest(Entity.USERS, [userRecord("c1"), userRecord("c2")], { batchId: "seed" })]);
    for await (const result of seed.writeRecords(requests, { headers: { authorization: `Bearer ${token}` } })) expect(result.inserted).toBe(2);
  });
  afterAll(async () => {
    await transfer?.stop();
    await records?.stop();
  });

  it("links client → transfer server → records client → records server → MongoDB spans under one trace id", async () => {
    const client = createClient(TransferService, createGrpcTransport({ baseUrl: transfer.url, interceptors: [createTracingClientInterceptor()] }));
    let traceId = "";
    let bytes = 0;
    let exportError: unknown;
    await withSpan("test.export", {}, async (root) => {
      traceId = root.spanContext().traceId;
      try {
        for await (const message of client.export({ entity: Entity.USERS, format: "ndjson" }, { headers: { authorization: `Bearer ${token}` } })) {
          if (message.event.case === "chunk") bytes += message.event.value.length;
        }
      } catch (error) {
        // Until the transfer service sends credentials to the records service, records refuses its
        // calls; the trace must link up all the same (tracing runs outside auth).
        exportError = error;
      }
    });

    const read = () => [...readSpanFile(transferTraceFile()), ...readSpanFile(recordsTraceFile())];
    const spans = await traceSpansFrom(read, traceId, (all) => {
      const server = rpcSpan(all, "SERVER", "StreamRecords");
      return server !== undefined && (server.attributes["rpc.grpc.status_code"] !== 0 || all.some((s) => isMongo(s) && s.service === "dataexchange-records"));
    });
    const clientSpan = rpcSpan(spans, "CLIENT", "Export", "test-client");
    const transferServer = rpcSpan(spans, "SERVER", "Export", "dataexchange-transfer");
    const recordsClient = rpcSpan(spans, "CLIENT", "StreamRecords", "dataexchange-transfer");
    const recordsServer = rpcSpan(spans, "SERVER", "StreamRecords", "dataexchange-records");
    const summary = JSON.stringify(spans.map((s) => [s.service, s.kind, s.name]));
    expect(clientSpan, summary).toBeDefined();
    expect(transferServer, summary).toBeDefined();
    expect(recordsClient, summary).toBeDefined();
    expect(recordsServer, summary).toBeDefined();
    expect(transferServer!.parentSpanId).toBe(clientSpan!.spanId);
    expect(descendsFrom(spans, recordsClient!, transferServer!.spanId)).toBe(true);
    expect(recordsServer!.parentSpanId).toBe(recordsClient!.spanId);
    const recordsMongo = spans.filter((s) => isMongo(s) && s.service === "dataexchange-records");
    if (recordsServer!.attributes["rpc.grpc.status_code"] === 0) {
      expect(exportError).toBeUndefined();
      expect(bytes).toBeGreaterThan(0);
      expect(recordsMongo.map((s) => s.attributes["db.operation.name"])).toContain("find");
      expect(recordsMongo.some((s) => descendsFrom(spans, s, recordsServer!.spanId))).toBe(true);
    } else {
      // The records service refused the call (no credentials from the transfer service yet): no
      // MongoDB spans there to check, but the refusal itself is on the records server span.
      expect(recordsServer!.attributes["rpc.connect_rpc.error_code"]).toBe("unauthenticated");
      expect(exportError).toBeDefined();
    }
    // Every records call the transfer made (a count, then the stream) hangs under the transfer's server
    // span, and every MongoDB command of the records service under one of those calls.
    const recordsServers = spans.filter((s) => s.kind === "SERVER" && s.service === "dataexchange-records");
    for (const server of recordsServers) {
      const caller = spans.find((s) => s.spanId === server.parentSpanId);
      expect(caller?.service).toBe("dataexchange-transfer");
      expect(descendsFrom(spans, caller!, transferServer!.spanId)).toBe(true);
    }
    for (const span of recordsMongo) expect(recordsServers.some((server) => descendsFrom(spans, span, server.spanId))).toBe(true);
    // The transfer service's own commands (its job records) are in the same trace, under its server span.
    for (const span of spans.filter((s) => isMongo(s) && s.service === "dataexchange-transfer")) expect(descendsFrom(spans, span, transferServer!.spanId)).toBe(true);
    expect(scanForSecrets(transfer.output() + records.output(), [token])).toEqual([]);
  });
});
