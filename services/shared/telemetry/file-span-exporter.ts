/**
 * A span exporter that appends one JSON line per span to a file, and a reader
 * for such files.
 *
 * Why: a test that starts a service in its own process cannot look into that
 * process's memory, and an OTLP collector is one more server to run. With
 * DX_TRACE_FILE set, the service appends each span as it ends, and the
 * test reads the file (moments after the span ends: the SDK first waits for
 * the resource's detected attributes, so readers poll). Several processes may append to the same file: each
 * line is written with one `appendFileSync` call (O_APPEND).
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import type { HrTime } from "@opentelemetry/api";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";

type ExportCallback = Parameters<SpanExporter["export"]>[1];
/** ExportResultCode of @opentelemetry/core (not a direct dependency). */
const SUCCESS = 0;
const FAILED = 1;

function hrTimeToMicroseconds([seconds, nanos]: HrTime): number {
  return Math.round(seconds * 1e6 + nanos / 1e3);
}

/** One span as written to the file. Times are microseconds since the epoch. */
export interface FileSpan {
  traceId: string;
  spanId: string;
  /** Absent for a root span. */
  parentSpanId?: string;
  name: string;
  /** SpanKind as a name: INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER. */
  kind: string;
  service: string;
  scope: string;
  startUs: number;
  endUs: number;
  attributes: Record<string, unknown>;
  status: { code: "UNSET" | "OK" | "ERROR"; message?: string };
  events: { name: string; attributes?: Record<string, unknown> }[];
}

const kindNames = ["INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"] as const;
const statusNames = ["UNSET", "OK", "ERROR"] as const;

/** Converts a finished span to the file's shape (also handy for in-memory spans in tests). */
export function toFileSpan(span: ReadableSpan): FileSpan {
  const parentSpanId = span.parentSpanContext?.spanId;
  return {
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    ...(parentSpanId ? { parentSpanId } : {}),
    name: span.name,
    kind: kindNames[span.kind] ?? String(span.kind),
    service: String(span.resource.attributes["service.name"] ?? ""),
    scope: span.instrumentationScope.name,
    startUs: hrTimeToMicroseconds(span.startTime),
    endUs: hrTimeToMicroseconds(span.endTime),
    attributes: { ...span.attributes },
    status: { code: statusNames[span.status.code] ?? "UNSET", ...(span.status.message ? { message: span.status.message } : {}) },
    events: span.events.map((e) => ({ name: e.name, ...(e.attributes ? { attributes: { ...e.attributes } } : {}) })),
  };
}

/** Appends spans to `path` as JSON lines. */
export class JsonLinesSpanExporter implements SpanExporter {
  private stopped = false;

  constructor(private readonly path: string) {}

  export(spans: ReadableSpan[], resultCallback: ExportCallback): void {
    if (this.stopped) {
      resultCallback({ code: FAILED, error: new Error("exporter is shut down") });
      return;
    }
    try {
      const text = spans.map((s) => `${JSON.stringify(toFileSpan(s))}\n`).join("");
      if (text) appendFileSync(this.path, text);
      resultCallback({ code: SUCCESS });
    } catch (error) {
      resultCallback({ code: FAILED, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
  }

  async forceFlush(): Promise<void> {}
}

/** Reads a DX_TRACE_FILE; a missing file is no spans, a torn last line is skipped. */
export function readSpanFile(path: string): FileSpan[] {
  if (!existsSync(path)) return [];
  const spans: FileSpan[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      spans.push(JSON.parse(line) as FileSpan);
    } catch {
      // A line being written right now; the next read has it whole.
    }
  }
  return spans;
}
