/**
 * Tracing for both services through one module: `startTelemetry` in each
 * service's main, `withSpan` / `traceAsyncIterable` for job and plugin spans.
 *
 * Why off by default: when neither OTEL_EXPORTER_OTLP_ENDPOINT (or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), DX_TRACE_FILE nor an exporter is given,
 * nothing is started. The `@opentelemetry/api` calls in interceptors and
 * helpers then hit its no-op tracer, so the cost is a few function calls per
 * RPC and no allocation of spans, no exporter, no timers.
 *
 * MongoDB command spans and @grpc/grpc-js client spans come from the
 * instrumentations that `register.mjs` enables before the app's modules load
 * (`node --import tsx --import ./services/shared/telemetry/register.mjs …`);
 * they find the tracer provider registered here through the API's global proxy.
 */
import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from "@opentelemetry/api";
import { createRequire } from "node:module";
import type { SpanExporter, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { JsonLinesSpanExporter } from "./file-span-exporter.js";

/**
 * The SDK, its exporter and span processors are loaded only when tracing is
 * on: loading them cost each service ~15 MB of resident memory that a
 * service running without tracing never uses (measured: the transfer
 * service's modules loaded 153 → 138 MB RSS, the records service's 149 →
 * 134 MB; bench/README.md, "Memory under load"). `require`, so the one copy is
 * the CommonJS build that @opentelemetry/sdk-node (CommonJS only) and
 * register.mjs load too.
 */
const require = createRequire(import.meta.url);
const sdk = () => ({
  ...(require("@opentelemetry/sdk-node") as typeof import("@opentelemetry/sdk-node")),
  ...(require("@opentelemetry/sdk-trace-base") as typeof import("@opentelemetry/sdk-trace-base")),
  ...(require("@opentelemetry/exporter-trace-otlp-http") as typeof import("@opentelemetry/exporter-trace-otlp-http")),
});

/** The instrumentation scope of every span this project starts itself. */
export const TRACER_NAME = "dataexchange";

export interface TelemetryOptions {
  /** `service.name` of the resource, e.g. "dataexchange-records". */
  serviceName: string;
  /**
   * An exporter to use instead of (or besides) the environment's: tests pass
   * an `InMemorySpanExporter`. Spans reach it as each one ends.
   */
  exporter?: SpanExporter;
  /** Defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** What `startTelemetry` returns: call `shutdown()` before exiting so the last spans are sent. */
export interface Telemetry {
  /** False when nothing was started (no endpoint, no file, no exporter). */
  readonly enabled: boolean;
  /** Sends what is buffered now. */
  forceFlush(): Promise<void>;
  /** Sends what is buffered and stops; idempotent. */
  shutdown(): Promise<void>;
}

let started = false;

/**
 * True once `startTelemetry` has started the SDK in this process. The RPC
 * interceptors pass calls straight through until then, so a service running
 * without tracing pays one boolean check per call.
 */
export function tracingStarted(): boolean {
  return started;
}

const disabled: Telemetry = { enabled: false, forceFlush: async () => {}, shutdown: async () => {} };

/**
 * True when the environment asks for traces: an OTLP endpoint or a trace file,
 * and OTEL_SDK_DISABLED is not "true". `register.mjs` applies the same rule.
 */
export function telemetryWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  if ((env.OTEL_SDK_DISABLED ?? "").trim().toLowerCase() === "true") return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.DX_TRACE_FILE);
}

/**
 * Starts the OpenTelemetry NodeSDK for traces only (metrics and logs
 * exporters are explicitly empty: the SDK would otherwise default them to OTLP
 * and post to localhost:4318 on a timer). W3C trace context and baggage are
 * the propagators, AsyncLocalStorage the context manager.
 *
 * - OTEL_EXPORTER_OTLP_ENDPOINT / …_TRACES_ENDPOINT: OTLP/HTTP (JSON), batched.
 * - DX_TRACE_FILE: one JSON line per span appended as it ends (tests read it
 *   from child processes; see `readSpanFile`).
 * - `options.exporter`: spans as they end.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const env = options.env ?? process.env;
  if (!options.exporter && !telemetryWanted(env)) return disabled;
  const { NodeSDK, SimpleSpanProcessor, BatchSpanProcessor, OTLPTraceExporter } = sdk();
  const spanProcessors: SpanProcessor[] = [];
  if (options.exporter) spanProcessors.push(new SimpleSpanProcessor(options.exporter));
  if (telemetryWanted(env)) {
    if (env.DX_TRACE_FILE) spanProcessors.push(new SimpleSpanProcessor(new JsonLinesSpanExporter(env.DX_TRACE_FILE)));
    if (env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
  }
  const running = new NodeSDK({
    serviceName: options.serviceName,
    spanProcessors,
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  running.start();
  started = true;
  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    async forceFlush() {
      await Promise.all(spanProcessors.map((p) => p.forceFlush()));
    },
    shutdown() {
      // Flush first: SimpleSpanProcessor's shutdown does not wait for exports still
      // waiting on the resource's detected attributes, and those spans would be lost.
      stopped ??= Promise.all(spanProcessors.map((p) => p.forceFlush().catch(() => undefined)))
        .then(() => running.shutdown())
        .catch(() => undefined);
      return stopped;
    },
  };
}

/** The project's tracer (a no-op one until `startTelemetry` registers a provider). */
export function getTracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/**
 * Runs `fn` inside a new active span (a child of the active one), records a
 * thrown error on it and ends it when `fn` settles. For jobs and one-shot
 * steps; for streams use {@link traceAsyncIterable}.
 */
export async function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T> | T): Promise<T> {
  return getTracer().startActiveSpan(name, { kind: SpanKind.INTERNAL, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      markError(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * Wraps an async iterable (a plugin's `read`/`write` transform, a cursor) in a
 * span that starts at the first read, makes every read run with that span
 * active (so MongoDB or RPC calls made while producing an item are its
 * children), and ends when the stream ends, fails, or the consumer stops
 * early. Attributes `dx.items` counts the items produced.
 */
export function traceAsyncIterable<T>(name: string, attributes: Attributes, source: AsyncIterable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const parent = context.active();
      const span = getTracer().startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parent);
      let items = 0;
      return runIteratorInSpan(source, span, trace.setSpan(parent, span), {
        onItem: () => void items++,
        onEnd: (error) => {
          span.setAttribute("dx.items", items);
          if (error !== undefined) markError(span, error);
        },
      });
    },
  };
}

/** Hooks of {@link runIteratorInSpan}; `onEnd` runs once, before the span ends. */
export interface SpanIteratorHooks {
  onItem?: () => void;
  /** `error` is undefined on a normal end or an early stop by the consumer. */
  onEnd?: (error: unknown, how: "done" | "error" | "return" | "abort") => void;
  /**
   * Ends the span when this aborts, even if nobody reads the stream again:
   * Connect's client iterables have no `return`, so a consumer's `break` is
   * only seen by the transport once the call's signal aborts.
   */
  signal?: AbortSignal;
}

/**
 * The iterator of `source` with each `next`/`return`/`throw` run in `ctx`,
 * ending `span` exactly once: at the end of the stream, at its error, or when
 * the consumer returns early. Shared by streaming RPC spans and
 * {@link traceAsyncIterable}.
 */
export function runIteratorInSpan<T>(source: AsyncIterable<T>, span: Span, ctx: Context, hooks: SpanIteratorHooks = {}): AsyncIterator<T> {
  let iterator: AsyncIterator<T> | undefined;
  let ended = false;
  const onAbort = () => end(hooks.signal?.reason ?? new Error("aborted"), "abort");
  const end = (error: unknown, how: "done" | "error" | "return" | "abort") => {
    if (ended) return;
    ended = true;
    hooks.signal?.removeEventListener("abort", onAbort);
    hooks.onEnd?.(error, how);
    span.end();
  };
  if (hooks.signal?.aborted) onAbort();
  else hooks.signal?.addEventListener("abort", onAbort, { once: true });
  const step = async (call: (it: AsyncIterator<T>) => Promise<IteratorResult<T>>, how: "next" | "return" | "throw"): Promise<IteratorResult<T>> => {
    try {
      const result = await context.with(ctx, () => {
        iterator ??= source[Symbol.asyncIterator]();
        return call(iterator);
      });
      if (result.done) end(undefined, how === "return" ? "return" : "done");
      else hooks.onItem?.();
      return result;
    } catch (error) {
      end(error, "error");
      throw error;
    }
  };
  return {
    next: () => step((it) => it.next(), "next"),
    return: (value?: unknown) => step((it) => (it.return ? it.return(value) : Promise.resolve({ done: true, value: value as T })), "return"),
    throw: (error?: unknown) =>
      step((it) => {
        if (it.throw) return it.throw(error);
        throw error;
      }, "throw"),
  };
}

/** Records an error on a span and sets its status to ERROR. */
export function markError(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  else span.recordException(String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}
