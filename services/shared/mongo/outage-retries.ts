/**
 * Bookkeeping writes that must not be lost to a database outage, nor hold a
 * caller up while the database is away: a job's final state and counts, the
 * audit event of a write.
 *
 * When a call fails *because* the database went away, its bookkeeping cannot
 * be written yet either. The caller must not wait for the database to come
 * back — it gets UNAVAILABLE at once and retries on its own schedule — and
 * the record must not stay wrong (a job left `running`, a write never
 * audited). So such a step is retried in the background, with backoff, until
 * the database answers again (up to `maxWaitMs`), then written.
 *
 * {@link OutageRetries.run} first tries inline, through the transient retry
 * (a blip is waited through); {@link OutageRetries.defer} goes to the
 * background at once, for a call that already knows the database is away.
 * Steps must be safe to run again after a partial failure. If the service
 * stops before the database is back, what is still waiting is given up and
 * said so in the log.
 */
import { isDatabaseUnavailable } from "./database-unavailable.js";
import { retryTransient } from "./transient-retry.js";

export interface OutageRetriesOptions {
  /** Whether an error means "away for now, try later"; default {@link isDatabaseUnavailable}. */
  isOutage?: (error: unknown) => boolean;
  /** Longest time a step keeps trying in the background (ms); default 10 minutes. */
  maxWaitMs?: number;
  /** First wait between tries (ms); doubles up to `maxDelayMs`. */
  firstDelayMs?: number;
  maxDelayMs?: number;
}

export class OutageRetries {
  private readonly stopping = new AbortController();
  private readonly pending = new Set<Promise<void>>();
  private readonly isOutage: (error: unknown) => boolean;
  private readonly maxWaitMs: number;
  private readonly firstDelayMs: number;
  private readonly maxDelayMs: number;

  /** @param log - where waiting, giving up and other failures are told (`what` names the step, e.g. "the end of job 1234"). */
  constructor(
    private readonly log: (...args: unknown[]) => void,
    options: OutageRetriesOptions = {},
  ) {
    this.isOutage = options.isOutage ?? isDatabaseUnavailable;
    this.maxWaitMs = options.maxWaitMs ?? 10 * 60_000;
    this.firstDelayMs = options.firstDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 5_000;
  }

  /**
   * Runs `step` now (transient errors retried). With `deferOnOutage`, a
   * step that still fails on an outage continues in the background and this
   * resolves; other failures are logged, never thrown.
   */
  async run(what: string, step: () => Promise<void>, options: { deferOnOutage: boolean }): Promise<void> {
    try {
      await retryTransient(step);
    } catch (error) {
      if (options.deferOnOutage && this.isOutage(error)) this.defer(what, step, error);
      else this.log(`failed to record ${what}:`, error);
    }
  }

  /** Runs `step` in the background, trying again until the outage is over. */
  defer(what: string, step: () => Promise<void>, reason?: unknown): void {
    if (this.stopping.signal.aborted) {
      this.log(`the service is stopping: ${what} was not recorded`);
      return;
    }
    this.log(`${what} will be recorded when the database is back${reason === undefined ? "" : `: ${describe(reason)}`}`);
    const task = this.background(what, step);
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
  }

  /** Steps still waiting for the database. */
  get size(): number {
    return this.pending.size;
  }

  /** Resolves when no step is waiting any more. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Stops waiting: the service is stopping. */
  close(): void {
    this.stopping.abort();
  }

  private async background(what: string, step: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + this.maxWaitMs;
    let delay = 0;
    for (;;) {
      if (!(await sleep(delay, this.stopping.signal))) return this.log(`the service stopped before ${what} could be recorded`);
      try {
        await step();
        if (delay > 0) this.log(`recorded ${what} now that the database is back`);
        return;
      } catch (error) {
        if (!this.isOutage(error)) return this.log(`failed to record ${what}:`, error);
        delay = Math.min(Math.max(delay * 2, this.firstDelayMs), this.maxDelayMs);
        if (Date.now() + delay > deadline) return this.log(`gave up recording ${what} after ${this.maxWaitMs} ms: ${describe(error)}`);
      }
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Waits `ms` (unref'd: a pending step never keeps a process alive); false when `signal` fired first. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    timer.unref();
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
