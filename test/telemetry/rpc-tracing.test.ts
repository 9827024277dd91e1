/**
 * The tracing interceptors in one process: a Connect client with the client
 * interceptor calls a real records server (port 0) with the server
 * interceptor and request logging; spans go to an in-memory exporter.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { Entity, RecordsService } from "../../gen/dataexchange/records/v1/records_pb.js";
import { buildRecordsServer, type RunningRecordsServer } from "../../services/records/server.js";
import { ensureIndexes } from "../../services/records/store/collections.js";
import { createLogger, createRequestLoggingInterceptor } from "../../services/shared/logging/index.js";
import { createGrpcJsClient } from "../support/grpc-js-client.js";
import { createTracingClientInterceptor, createTracingServerInterceptor, startTelemetry, traceAsyncIterable, withSpan, type Telemetry } from "../../services/shared/telemetry/index.js";
import { openTestDatabase, type TestDatabase } from "../support/database.js";
import { fromArray, userRecord, writeRequest } from "../records/fixtures.js";
import { scanForSecrets } from "../logging/scan-for-secrets.js";

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
let t: TestDatabase;
let running: RunningRecordsServer;
const logLines: string[] = [];

beforeAll(async () => {
  telemetry = startTelemetry({ serviceName: "rpc-tracing-test", exporter });
  t = await openTestDatabase("telemetry_rpc");
  await ensureIndexes(t.db);
  const log = createLogger({ service: "records", destination: { write: (s: string) => void logLines.push(s) } });
  running = await buildRecordsServer({ db: t.db, port: 0, interceptors: [createTracingServerInterceptor(), createRequestLoggingInterceptor(log)] });
});
afterAll(async () => {
  await running?.close();
  await t?.close();
  await telemetry?.shutdown();
});
beforeEach(() => exporter.reset());

const spans = () => exporter.getFinishedSpans();
const byKind = (kind: SpanKind, name?: string) => spans().filter((s) => s.kind === kind && (name === undefined || s.name.endsWith(name)));
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

function grpcClient(): Client<typeof RecordsService> {
  return createClient(RecordsService, createGrpcTransport({ baseUrl: running.url, interceptors: [createTracingClientInterceptor()] }));
}

describe("the tracing interceptors", () => {
  it("carry one trace from a parent span through client and server spans, unary and streaming", async () => {
    const client = grpcClient();
    let rootTrace = "";
    await withSpan("test.root", {}, async (root) => {
      rootTrace = root.spanContext().traceId;
      const results = [];
      for await (const r of client.writeRecords(fromArray([writeRequest(Entity.USERS, [userRecord("tr1"), userRecord("tr2")], { batchId: "b" })]))) results.push(r);
      expect(results[0]!.inserted).toBe(2);
      let n = 0;
      for await (const batch of client.streamRecords({ entity: Entity.USERS, batchSize: 1 })) n += batch.records.length;
      expect(n).toBe(2);
      expect((await client.countRecords({ entity: Entity.USERS })).count).toBe(2n);
    });
    await telemetry.forceFlush();
    const root = spans().find((s) => s.name === "test.root")!;
    for (const method of ["WriteRecords", "StreamRecords", "CountRecords"]) {
      const [clientSpan] = byKind(SpanKind.CLIENT, `/${method}`);
      const [serverSpan] = byKind(SpanKind.SERVER, `/${method}`);
      expect(clientSpan?.name).toBe(`dataexchange.records.v1.RecordsService/${method}`);
      expect(serverSpan?.name).toBe(clientSpan?.name);
      expect(clientSpan!.spanContext().traceId).toBe(rootTrace);
      expect(serverSpan!.spanContext().traceId).toBe(rootTrace);
      expect(parentOf(clientSpan!)).toBe(root.spanContext().spanId);
      expect(parentOf(serverSpan!)).toBe(clientSpan!.spanContext().spanId);
      expect(serverSpan!.attributes).toMatchObject({ "rpc.system": "grpc", "rpc.service": "dataexchange.records.v1.RecordsService", "rpc.method": method, "rpc.grpc.status_code": 0 });
    }
    const [stream] = byKind(SpanKind.SERVER, "/StreamRecords");
    expect(stream!.attributes["rpc.response.messages"]).toBe(2);
  });

  it("marks a failed call: ERROR on the client, the code on both, and UNSET on the server for a caller's mistake", async () => {
    const client = grpcClient();
    const error = await client.getRecord({ entity: Entity.USERS, key: { parts: ["nobody@example.org"] } }).catch((e: unknown) => ConnectError.from(e));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.NotFound);
    await telemetry.forceFlush();
    const [clientSpan] = byKind(SpanKind.CLIENT, "/GetRecord");
    const [serverSpan] = byKind(SpanKind.SERVER, "/GetRecord");
    expect(clientSpan!.status.code).toBe(SpanStatusCode.ERROR);
    expect(clientSpan!.attributes).toMatchObject({ "rpc.grpc.status_code": Code.NotFound, "rpc.connect_rpc.error_code": "not_found" });
    expect(serverSpan!.status.code).toBe(SpanStatusCode.UNSET);
    expect(serverSpan!.attributes["rpc.connect_rpc.error_code"]).toBe("not_found");
  });

  it("ends the server span when the caller stops reading a stream early", async () => {
    const client = grpcClient();
    const controller = new AbortController();
    for await (const batch of client.streamRecords({ entity: Entity.USERS, batchSize: 1 }, { signal: controller.signal })) {
      expect(batch.records.length).toBe(1);
      break;
    }
    // Connect's client iterables have no return(): a caller cancels by aborting.
    controller.abort();
    await expect.poll(() => byKind(SpanKind.SERVER, "/StreamRecords").length, { timeout: 5000 }).toBe(1);
    await expect.poll(() => byKind(SpanKind.CLIENT, "/StreamRecords").length, { timeout: 5000 }).toBe(1);
    const [clientSpan] = byKind(SpanKind.CLIENT, "/StreamRecords");
    expect(clientSpan!.attributes["rpc.connect_rpc.error_code"]).toBe("canceled");
    expect(clientSpan!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("continues the trace of a Connect-protocol caller and of a grpc-js caller's traceparent metadata", async () => {
    const connect = createClient(RecordsService, createConnectTransport({ baseUrl: running.url, httpVersion: "1.1", interceptors: [createTracingClientInterceptor()] }));
    await connect.countRecords({ entity: Entity.USERS });
    await telemetry.forceFlush();
    const [clientSpan] = byKind(SpanKind.CLIENT, "/CountRecords");
    const [serverSpan] = byKind(SpanKind.SERVER, "/CountRecords");
    expect(parentOf(serverSpan!)).toBe(clientSpan!.spanContext().spanId);
    expect(serverSpan!.attributes["rpc.system"]).toBe("connect_rpc");

    exporter.reset();
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const parentSpanId = "00f067aa0ba902b7";
    const grpcJs = createGrpcJsClient(RecordsService, running.url);
    try {
      await grpcJs.countRecords({ entity: Entity.USERS }, { headers: { traceparent: `00-${traceId}-${parentSpanId}-01` } });
    } finally {
      grpcJs.close();
    }
    await telemetry.forceFlush();
    const [fromGrpcJs] = byKind(SpanKind.SERVER, "/CountRecords");
    expect(fromGrpcJs!.spanContext().traceId).toBe(traceId);
    expect(parentOf(fromGrpcJs!)).toBe(parentSpanId);
  });

  it("leaves health checks untraced", async () => {
    const grpcJs = createGrpcJsClient((await import("../../gen/grpc/health/v1/health_pb.js")).Health, running.url);
    try {
      await grpcJs.check({ service: "" });
    } finally {
      grpcJs.close();
    }
    await telemetry.forceFlush();
    expect(spans()).toEqual([]);
  });
});

describe("request logging", () => {
  it("writes one JSON line per call with method, code, duration and the call's trace_id, and no bodies", async () => {
    logLines.length = 0;
    const client = grpcClient();
    await withSpan("test.logging", {}, async () => {
      for await (const _ of client.writeRecords(fromArray([writeRequest(Entity.USERS, [userRecord("logged-body-marker")], { batchId: "lb" })]))) void _;
      await client.getRecord({ entity: Entity.USERS, key: { parts: ["absent@example.org"] } }).catch(() => undefined);
    });
    await telemetry.forceFlush();
    const lines = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.rpc, l.code])).toEqual([
      ["dataexchange.records.v1.RecordsService/WriteRecords", "ok"],
      ["dataexchange.records.v1.RecordsService/GetRecord", "not_found"],
    ]);
    const [server] = byKind(SpanKind.SERVER, "/WriteRecords");
    expect(lines[0]).toMatchObject({ protocol: "grpc", responses: 1, trace_id: server!.spanContext().traceId, span_id: server!.spanContext().spanId });
    expect(typeof lines[0]!.duration_ms).toBe("number");
    // Who called: the client's address and port, as the server's socket sees it.
    expect(lines[0]!.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    const text = logLines.join("");
    expect(text).not.toContain("logged-body-marker");
    expect(text).not.toContain("absent@example.org");
    expect(scanForSecrets(text)).toEqual([]);
  });
});

describe("traceAsyncIterable", () => {
  it("makes each read a child context and ends the span at the end, at an early stop, or at an error", async () => {
    const seen: (string | undefined)[] = [];
    async function* source(fail: boolean) {
      for (let i = 0; i < 3; i++) {
        seen.push(trace.getActiveSpan()?.spanContext().spanId);
        await new Promise((r) => setImmediate(r));
        yield i;
      }
      if (fail) throw new Error("plugin failed");
    }
    const all: number[] = [];
    for await (const n of traceAsyncIterable("plugin.read", { "dx.format": "csv" }, source(false))) all.push(n);
    for await (const n of traceAsyncIterable("plugin.early", {}, source(false))) if (n === 0) break;
    await expect(async () => {
      for await (const _ of traceAsyncIterable("plugin.fail", {}, source(true))) void _;
    }).rejects.toThrow("plugin failed");
    expect(all).toEqual([0, 1, 2]);
    await telemetry.forceFlush();
    const read = spans().find((s) => s.name === "plugin.read")!;
    expect(read.attributes).toMatchObject({ "dx.format": "csv", "dx.items": 3 });
    expect(seen.slice(0, 3)).toEqual([read.spanContext().spanId, read.spanContext().spanId, read.spanContext().spanId]);
    expect(spans().find((s) => s.name === "plugin.early")!.attributes["dx.items"]).toBe(1);
    const failed = spans().find((s) => s.name === "plugin.fail")!;
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed.events.map((e) => e.name)).toContain("exception");
  });
});
