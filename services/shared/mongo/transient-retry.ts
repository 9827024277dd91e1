/**
 * Retries of idempotent database steps over transient errors (a connection
 * reset, a pool cleared, a primary stepping down), with exponential backoff
 * and a time budget, so that a blip is invisible and an outage is reported
 * quickly as UNAVAILABLE instead of stalling the caller.
 *
 * Only steps that are safe to repeat go through here: reads, replacements and
 * `$set` updates by id or natural key, job-record updates. Inserts are not
 * blindly repeated — a repeated insert whose first attempt landed would fail
 * on the unique index, or duplicate an append-only entry — the batch writer
 * checks what landed first (services/records/store/send-writes.ts).
 *
 * The budget bounds when a new attempt may start; an attempt itself is
 * bounded by the driver's `serverSelectionTimeoutMS` (mongo-client-options.ts),
 * so a step fails within about budget + that timeout once the database is gone.
 */
import { isTransientDatabaseError } from "./database-unavailable.js";

export interface RetryPolicy {
  /** No new attempt starts later than this after the first one (ms). */
  budgetMs: number;
  /** Wait before the first retry (ms); doubles each time. */
  firstDelayMs: number;
  /** Longest wait between attempts (ms). */
  maxDelayMs: number;
}

/**
 * The services' default: a blip of a few seconds (a restarted server, a
 * stepdown, a reset connection) is retried through; anything longer is an
 * outage, answered UNAVAILABLE so that clients retry on their own schedule.
 */
export const DEFAULT_RETRY: RetryPolicy = { budgetMs: 3_000, firstDelayMs: 100, maxDelayMs: 1_000 };

export interface RetryOptions extends Partial<RetryPolicy> {
  /** Stops retrying (the last error is thrown) once aborted: a cancelled call. */
  signal?: AbortSignal;
  /** Which errors to retry; default {@link isTransientDatabaseError}. */
  retryable?: (error: unknown) => boolean;
  /** Told about each retry (attempt number from 1, the error, the wait). */
  onRetry?: (attempt: number, error: unknown, delayMs: number) => void;
}

/** Runs `step`, repeating it after transient database errors within the budget; throws the last error. */
export async function retryTransient<T>(step: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const retries = new Retries(options);
  for (let attempt = 0; ; attempt++) {
    try {
      return await step(attempt);
    } catch (error) {
      await retries.after(error);
    }
  }
}

/**
 * The same policy for loops that cannot be a single step (a generator that
 * may only start over before it has yielded): call {@link Retries.after}
 * with each error; it waits before the next attempt, or throws the error.
 */
export class Retries {
  private readonly policy: RetryPolicy;
  private readonly started = Date.now();
  private delay: number;
  private attempt = 0;

  constructor(private readonly options: RetryOptions = {}) {
    this.policy = { ...DEFAULT_RETRY, ...options };
    this.delay = this.policy.firstDelayMs;
  }

  async after(error: unknown): Promise<void> {
    const retryable = this.options.retryable ?? isTransientDatabaseError;
    const late = Date.now() + this.delay - this.started > this.policy.budgetMs;
    if (late || this.options.signal?.aborted || !retryable(error)) throw error;
    this.options.onRetry?.(++this.attempt, error, this.delay);
    await sleep(this.delay, this.options.signal);
    this.delay = Math.min(this.delay * 2, this.policy.maxDelayMs);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
