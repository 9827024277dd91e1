/**
 * startTelemetry's switch, the preload's switch, withSpan, and the JSON-lines
 * span file.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { JsonLinesSpanExporter, readSpanFile, startTelemetry, telemetryWanted, toFileSpan, tracingStarted, withSpan } from "../../services/shared/telemetry/index.js";
import { repositoryRoot } from "./service-process.js";

describe("telemetryWanted", () => {
  it("is on with an OTLP endpoint or a trace file, and off otherwise or when the SDK is disabled", () => {
    expect(telemetryWanted({})).toBe(false);
    expect(telemetryWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: "" })).toBe(false);
    expect(telemetryWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" })).toBe(true);
    expect(telemetryWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:4318/v1/traces" })).toBe(true);
    expect(telemetryWanted({ DX_TRACE_FILE: "/tmp/x.jsonl" })).toBe(true);
    expect(telemetryWanted({ DX_TRACE_FILE: "/tmp/x.jsonl", OTEL_SDK_DISABLED: "true" })).toBe(false);
  });
});

describe("the preload", () => {
  const probe = (env: NodeJS.ProcessEnv) =>
    execFileSync(process.execPath, ["--import", "./services/shared/telemetry/register.mjs", "-e", 'console.log(String(globalThis[Symbol.for("dataexchange.telemetry.preloaded")]))'], {
      cwd: repositoryRoot,
      env: { PATH: process.env.PATH, ...env },
      encoding: "utf8",
    }).trim();

  it("registers nothing when tracing is off, and the instrumentations when it is on", () => {
    expect(probe({})).toBe("undefined");
    expect(probe({ DX_TRACE_FILE: join(tmpdir(), "unused.jsonl") })).toBe("true");
  });
});

describe("startTelemetry", () => {
  it("writes a span that ended just before shutdown (as at SIGTERM) to DX_TRACE_FILE", () => {
    const dir = mkdtempSync(join(tmpdir(), "dx-spans-"));
    try {
      const file = join(dir, "exit.jsonl");
      execFileSync(process.execPath, ["--import", "tsx", "test/telemetry/fixtures/span-then-exit.ts"], {
        cwd: repositoryRoot,
        env: { ...process.env, DX_TRACE_FILE: file, OTEL_EXPORTER_OTLP_ENDPOINT: "" },
        encoding: "utf8",
      });
      expect(readSpanFile(file).map((s) => [s.name, s.service])).toEqual([["last words", "span-then-exit"]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("starts nothing without an endpoint, a file or an exporter, so spans stay no-ops", async () => {
    const telemetry = startTelemetry({ serviceName: "off", env: {} });
    expect(telemetry.enabled).toBe(false);
    // The RPC interceptors pass calls straight through while this is false.
    expect(tracingStarted()).toBe(false);
    const span = trace.getTracer("x").startSpan("nothing");
    expect(span.isRecording()).toBe(false);
    expect(await withSpan("still fine", {}, async () => 42)).toBe(42);
    await telemetry.shutdown();
  });

  it("with an exporter records withSpan spans, nested, with errors marked", async () => {
    const exporter = new InMemorySpanExporter();
    const telemetry = startTelemetry({ serviceName: "on", exporter, env: {} });
    expect(telemetry.enabled).toBe(true);
    expect(tracingStarted()).toBe(true);
    await withSpan("job", { "dx.job_id": "j1" }, async () => {
      await withSpan("step", {}, () => "sync result");
      await expect(withSpan("bad step", {}, async () => Promise.reject(new Error("nope")))).rejects.toThrow("nope");
    });
    // SimpleSpanProcessor waits for the resource's detected attributes before exporting.
    await telemetry.forceFlush();
    const spans = exporter.getFinishedSpans();
    const job = spans.find((s) => s.name === "job")!;
    expect(job.attributes["dx.job_id"]).toBe("j1");
    expect(job.kind).toBe(SpanKind.INTERNAL);
    expect(job.resource.attributes["service.name"]).toBe("on");
    for (const name of ["step", "bad step"]) expect(spans.find((s) => s.name === name)!.parentSpanContext?.spanId).toBe(job.spanContext().spanId);
    expect(spans.find((s) => s.name === "bad step")!.status).toMatchObject({ code: SpanStatusCode.ERROR, message: "nope" });

    const dir = mkdtempSync(join(tmpdir(), "dx-spans-"));
    try {
      const file = join(dir, "spans.jsonl");
      const fileExporter = new JsonLinesSpanExporter(file);
      await new Promise<void>((resolve) => fileExporter.export(spans, () => resolve()));
      const read = readSpanFile(file);
      expect(read).toEqual(spans.map(toFileSpan));
      expect(read.find((s) => s.name === "job")).toMatchObject({ kind: "INTERNAL", service: "on", status: { code: "UNSET" } });
      expect(read.find((s) => s.name === "step")!.parentSpanId).toBe(job.spanContext().spanId);
      expect(readSpanFile(join(dir, "missing.jsonl"))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await telemetry.shutdown();
  });
});
