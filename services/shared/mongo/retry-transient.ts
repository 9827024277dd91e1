/**
 * Retrying a database step that is safe to repeat (a read, an update that
 * sets values rather than adds to them, an upsert by key) when the error says
 * the database was briefly out of reach: a dropped connection, a primary that
 * stepped down, a server shutting down, SQLite busy under FerretDB. Anything
 * else — a refused document, a duplicate key — is thrown at once: repeating it
 * would fail the same way, or, for a blind insert, could write twice.
 *
 * The delays grow (100 ms, 200 ms, 400 ms … up to `maxDelayMs`, with jitter so
 * that instances that lost the same connection do not retry in step) and the
 * number of attempts is bounded, so a caller waiting on the step hears about
 * a database that stays down within a few seconds instead of never.
 */
import { MongoError } from "mongodb";
import { isDatabaseUnavailable } from "./database-unavailable.js";

/** Server codes that mean "not now", not "never": shutdown, elections, network. */
const TRANSIENT_CODES = new Set<number>([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/** Whether repeating the same step later may succeed. */
export function isTransientDatabaseError(error: unknown): boolean {
  if (isDatabaseUnavailable(error)) return true;
  if (!(error instanceof MongoError)) return false;
  if (error.hasErrorLabel("RetryableWriteError") || error.hasErrorLabel("TransientTransactionError")) return true;
  if (typeof error.code === "number" && TRANSIENT_CODES.has(error.code)) return true;
  // FerretDB over SQLite: another connection held the write lock past the busy timeout.
  return /SQLITE_BUSY|database is locked/i.test(error.message);
}

export interface RetryOptions {
  /** Attempts in all, the first included; default 6. */
  attempts?: number;
  /** Delay before the first retry, ms; doubles each time. Default 100. */
  baseDelayMs?: number;
  /** Longest delay between attempts, ms; default 2000. */
  maxDelayMs?: number;
  /** Stops retrying (throwing the last error) when it fires. */
  signal?: AbortSignal;
  /** Called before each retry, e.g. to log it. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Runs `step`, and again after a growing delay while it fails with a
 * {@link isTransientDatabaseError transient error}, up to `attempts` times;
 * then throws the last error. Only for steps that are safe to repeat.
 */
export async function retryTransient<T>(step: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 6);
  const base = options.baseDelayMs ?? 100;
  const max = options.maxDelayMs ?? 2_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (attempt >= attempts || !isTransientDatabaseError(error) || options.signal?.aborted) throw error;
      const ceiling = Math.min(max, base * 2 ** (attempt - 1));
      const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
      options.onRetry?.(error, attempt, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
