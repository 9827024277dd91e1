/**
 * Watching a job from the job store: what WatchJob streams.
 *
 * The job store is the one place every instance sees, so a watch works
 * whichever instance runs the job (or ran it): it reads the job's record and
 * its row errors after the last one sent, every `pollMs`, and says what
 * changed — the progress when the counts moved, each new row error in order —
 * until the record says the job ended; then it sends the row errors stored
 * last and the ended job. Row errors are stored in batches as the job flushes
 * them (and at its end), so they arrive in bursts, never out of order, never
 * twice (their `seq` is the cursor). What the reader may see is decided once,
 * by `view` (personal values withheld for readers without pii).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { RowError as RowErrorRecord } from "../../domain/index.js";
import type { JobDocument, JobProgress } from "./job-types.js";
import type { JobStore } from "./job-store.js";

export type JobWatchEvent =
  | { kind: "job"; job: JobDocument }
  | { kind: "progress"; progress: Required<Pick<JobProgress, "bytes" | "errorCount">> & { counts: JobDocument["counts"] } }
  | { kind: "row_error"; error: RowErrorRecord }
  | { kind: "ended"; job: JobDocument };

export interface JobWatchOptions {
  pollMs: number;
  signal?: AbortSignal;
  /** What the reader may see of a job and of a row error. */
  view: { job(job: JobDocument): JobDocument; rowError(error: RowErrorRecord, entity: string | undefined): RowErrorRecord };
}

/** Row errors read per look at the store, so a job with many does not hold a watch in one read. */
const ERRORS_PER_READ = 1000;

/** Streams `first` (the job as the caller was allowed to read it) and then its changes until it ends. */
export async function* watchJob(store: JobStore, first: JobDocument, options: JobWatchOptions): AsyncGenerator<JobWatchEvent> {
  const { view, signal } = options;
  yield { kind: "job", job: view.job({ ...first, errors: [] }) };
  let seq = 0;
  let lastProgress = "";
  let job = first;
  const newErrors = async function* (): AsyncGenerator<JobWatchEvent> {
    for (;;) {
      const batch = await store.rowErrors.find({ jobId: first._id, seq: { $gt: seq } }, { sort: { seq: 1 }, limit: ERRORS_PER_READ, projection: { _id: 0, jobId: 0 } }).toArray();
      for (const { seq: at, ...error } of batch) {
        seq = at;
        yield { kind: "row_error", error: view.rowError(error, job.entity) };
      }
      if (batch.length < ERRORS_PER_READ) return;
    }
  };
  for (;;) {
    signal?.throwIfAborted();
    const running = job.state === "running";
    yield* newErrors();
    const progress = { counts: job.counts, bytes: job.bytes, errorCount: job.errorCount };
    const key = JSON.stringify(progress);
    if (key !== lastProgress) {
      lastProgress = key;
      if (running) yield { kind: "progress", progress };
    }
    if (!running) {
      yield { kind: "ended", job: view.job(job) };
      return;
    }
    await sleep(options.pollMs, undefined, { signal });
    job = await store.get(first._id);
  }
}
