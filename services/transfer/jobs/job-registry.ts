/**
 * The jobs running in this process, each with the AbortController that stops
 * it. CancelJob aborts the controller; the job's own loop notices (its reads,
 * writes and records calls all take the combined signal), stops, and records
 * itself as cancelled.
 */
import { TransferCancelledError } from "../core/errors.js";

export class JobRegistry {
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void>; resolve: () => void }>();

  /**
   * Registers a job; the returned signal fires when CancelJob (or close) asks
   * it to stop. Call `release` when the job has recorded its outcome.
   */
  register(jobId: string): { signal: AbortSignal; release: () => void } {
    const controller = new AbortController();
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    this.running.set(jobId, { controller, done, resolve });
    return {
      signal: controller.signal,
      release: () => {
        this.running.delete(jobId);
        resolve();
      },
    };
  }

  has(jobId: string): boolean {
    return this.running.has(jobId);
  }

  get size(): number {
    return this.running.size;
  }

  /**
   * Asks a running job to stop and waits (up to `waitMs`) until it has
   * recorded its outcome. False when the job is not running here.
   */
  async cancel(jobId: string, reason = "cancelled by request", waitMs = 10_000): Promise<boolean> {
    const entry = this.running.get(jobId);
    if (!entry) return false;
    entry.controller.abort(new TransferCancelledError({ cause: reason }));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([entry.done, new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
    return true;
  }

  /** Cancels every running job (server shutdown). */
  async cancelAll(reason = "the service is shutting down", waitMs = 5_000): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.cancel(id, reason, waitMs)));
  }
}
