/**
 * Structured JSON logs for both services, with pino.
 *
 * Every line is one JSON object with `level` (as a name), `time` (ISO 8601),
 * `service`, `msg`, and — when logged inside a traced call — `trace_id` and
 * `span_id` of the active OpenTelemetry span, so a line can be found from a
 * trace and a trace from a line; inside a job's scope also `job_id` (see
 * `job-scope.ts`).
 * Secrets never appear: see `redaction.ts` for what is censored and how.
 */
import { context, isSpanContextValid, trace } from "@opentelemetry/api";
import { pino, type DestinationStream, type Level, type Logger, type LoggerOptions } from "pino";
import { currentJobId } from "./job-scope.js";
import { logFileDestination } from "./log-file.js";
import { REDACT_PATHS, REDACTED, scrubString, scrubValue } from "./redaction.js";

export type { Logger } from "pino";

const levels: readonly string[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export interface CreateLoggerOptions {
  /** `service` on every line, e.g. "records" or "transfer". */
  service: string;
  /** Minimum level; defaults to LOG_LEVEL, then "info". An unknown name falls back to "info". */
  level?: string;
  /**
   * Where lines go; defaults to stdout. Tests pass a stream that collects them.
   * With DX_LOG_FILE set (in `env`), every line is appended there too (log-file.ts).
   */
  destination?: DestinationStream;
  /** Extra fields on every line (e.g. `version`). */
  base?: Record<string, unknown>;
  /** Defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** Correlation fields of the current async context: trace_id/span_id of the active span, job_id. */
export function correlationFields(): Record<string, string> {
  const out: Record<string, string> = {};
  const span = trace.getSpan(context.active());
  if (span) {
    const spanContext = span.spanContext();
    if (isSpanContextValid(spanContext)) {
      out.trace_id = spanContext.traceId;
      out.span_id = spanContext.spanId;
    }
  }
  const jobId = currentJobId();
  if (jobId !== undefined) out.job_id = jobId;
  return out;
}

/** Resolves the level: explicit option, then LOG_LEVEL, then "info". */
export function resolveLevel(level: string | undefined, env: NodeJS.ProcessEnv = process.env): Level | "silent" {
  const wanted = (level ?? env.LOG_LEVEL ?? "info").trim().toLowerCase();
  return (levels.includes(wanted) ? wanted : "info") as Level | "silent";
}

/** The pino options this project logs with; exported for tests and for pino transports. */
export function loggerOptions(options: CreateLoggerOptions): LoggerOptions {
  return {
    level: resolveLevel(options.level, options.env),
    base: { service: options.service, pid: process.pid, ...options.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: "msg",
    mixin: correlationFields,
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    // Errors are already plain, scrubbed objects by now (see `scrubValue`);
    // pino's own serializer would re-type them as "Object".
    serializers: { err: (value: unknown) => (value instanceof Error ? scrubValue(value) : value) },
    formatters: {
      level: (label) => ({ level: label }),
      bindings: (bindings) => scrubValue(bindings) as Record<string, unknown>,
      log: (object) => scrubValue(object) as Record<string, unknown>,
    },
    hooks: {
      // The message and printf arguments are not part of the logged object,
      // so `formatters.log` never sees them: scrub them here. An Error logged
      // alone becomes `{ err }` plus its (scrubbed) message, as pino would do.
      logMethod(args, method) {
        const [first, ...rest] = args as unknown[];
        if (first instanceof Error && rest.length === 0) {
          return method.apply(this, [{ err: scrubValue(first) }, scrubString(first.message)] as never);
        }
        // A leading object is the logged object: `formatters.log` scrubs it (with the mixin's fields).
        const scrubArg = (arg: unknown) => (typeof arg === "string" ? scrubString(arg) : typeof arg === "object" && arg !== null ? scrubValue(arg) : arg);
        const head = first instanceof Error ? { err: scrubValue(first) } : typeof first === "object" && first !== null ? first : scrubArg(first);
        return method.apply(this, [head, ...rest.map(scrubArg)] as never);
      },
    },
  };
}

/**
 * A JSON logger for a service. Level from `options.level`, LOG_LEVEL, or
 * "info".
 *
 * @example
 * const log = createLogger({ service: "records" });
 * log.info({ entity: "users", count }, "batch written");
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const destination = options.destination ?? stdoutDestination();
  const file = logFileDestination(options.env ?? process.env);
  if (!file) return pino(loggerOptions(options), destination);
  // Both streams take every line the logger's level lets through.
  const streams = [destination, file].map((stream) => ({ level: "trace" as const, stream }));
  return pino(loggerOptions(options), pino.multistream(streams));
}

/**
 * Standard output, written synchronously. pino's default is asynchronous,
 * and at exit it flushes what it still buffers with a synchronous write that
 * can overtake a write still in flight: a service's "stopped" line then came
 * out before its "stopping" line (seen in CI). The services log one line per
 * call, so the synchronous write costs nothing measurable.
 */
function stdoutDestination(): DestinationStream {
  return pino.destination({ dest: 1, sync: true });
}
