/**
 * A service's start and stop lines: JSON like every other line, told apart
 * by a `lifecycle` field, so that log pipelines, `npm start`, the bench and
 * the tests that spawn services read the address from a field instead of
 * parsing prose.
 *
 * - `listening`: the service answers; `url`, `host`, `port` and what it runs
 *   with (database, auth, …) are fields of the line.
 * - `stopping` (with the `signal`) and `stopped`.
 * - `start_failed` (with `err`): written by the logger when there is one, and
 *   by hand on stderr when the logger itself could not be built, so the
 *   reason always reaches the operator.
 */
import type { Logger } from "pino";
import { createLogger } from "../logging/logger.js";
import { scrubValue } from "../logging/redaction.js";

/** The values of the `lifecycle` field. */
export type LifecycleEvent = "listening" | "stopping" | "stopped" | "start_failed";

/** What a `listening` line says, as {@link listeningLineOf} reads it back. */
export interface ListeningLine {
  service?: string;
  url: string;
  port?: number;
}

/** The `listening` line in one line of a service's output, if it is one. */
export function listeningLineOf(line: string): ListeningLine | undefined {
  const text = line.trim();
  if (!text.startsWith("{")) return undefined;
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (parsed.lifecycle !== "listening" || typeof parsed.url !== "string") return undefined;
  return {
    url: parsed.url,
    ...(typeof parsed.service === "string" ? { service: parsed.service } : {}),
    ...(typeof parsed.port === "number" ? { port: parsed.port } : {}),
  };
}

/** The first `listening` line in a service's output so far (complete lines only). */
export function findListeningLine(output: string): ListeningLine | undefined {
  const complete = output.slice(0, output.lastIndexOf("\n") + 1);
  for (const line of complete.split("\n")) {
    const found = listeningLineOf(line);
    if (found) return found;
  }
  return undefined;
}

/**
 * Reports that `service` could not start: through `logger` when it was
 * built, else (or when logging throws) as one JSON line of the same shape
 * written with `fallback` (stderr by default). Secrets in the error's message
 * (a connection string's password, a token) are scrubbed either way.
 */
export function reportStartFailure(service: string, error: unknown, logger?: Logger, fallback: (line: string) => void = (line) => process.stderr.write(line)): void {
  const msg = `${service} service failed to start`;
  if (logger) {
    try {
      logger.fatal({ lifecycle: "start_failed", err: error }, msg);
      return;
    } catch {
      // Fall through to the hand-written line.
    }
  }
  const err = error instanceof Error ? scrubValue(error) : { message: scrubValue(String(error)) };
  fallback(`${JSON.stringify({ level: "fatal", time: new Date().toISOString(), service, pid: process.pid, lifecycle: "start_failed", msg, err })}\n`);
}

/**
 * Runs a service's `main` with its logger. The logger is built first and
 * apart, so a failure to start is reported through it, or by hand when it is
 * the logger that failed; either way the process exits 1.
 */
export function runService(service: string, main: (logger: Logger) => Promise<void>): void {
  let logger: Logger;
  try {
    logger = createLogger({ service });
  } catch (error) {
    reportStartFailure(service, error);
    process.exit(1);
  }
  main(logger).catch((error: unknown) => {
    reportStartFailure(service, error, logger);
    process.exit(1);
  });
}

/**
 * Stops the service on the first SIGINT or SIGTERM: a `stopping` line, the
 * `close` steps (the caller's, in the caller's order), a `stopped` line with
 * how long they took (`duration_ms`: what to compare with an orchestrator's
 * grace period before it kills), exit 0. A second signal while stopping is ignored.
 */
export function stopOnSignals(service: string, logger: Logger, close: () => Promise<void>): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ lifecycle: "stopping", signal }, `${service} service stopping`);
    const started = performance.now();
    await close();
    logger.info({ lifecycle: "stopped", signal, duration_ms: Math.round(performance.now() - started) }, `${service} service stopped`);
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}
