/**
 * The one way a running job writes its record: progress, lease renewals and
 * the end, all through one queue, so that no two writes of the same record
 * are ever in flight together.
 *
 * Why a queue: FerretDB 1.24 implements `updateOne` as read, change in
 * memory, write the whole document back by `_id` (handler/common/update.go,
 * backends/sqlite/collection.go `UPDATE … SET _jsonb = ? WHERE _id = ?`),
 * without re-checking the filter or isolating the two steps. A progress write
 * that read the record just before the job's end was written put the whole
 * record back as it was — `running`, nothing inserted — after the client had
 * its summary (measured: 146 of 300 concurrent pairs lost the end). MongoDB
 * applies a filtered update atomically, so on MongoDB the `state: running`
 * filter alone would have stopped the late write; the queue makes it
 * impossible on both. Counts are written with `$max` as well, so that a
 * record's counts only ever move forward.
 *
 * The end is written before the caller hands out the job's summary, retried
 * with backoff on transient database errors; when the database stays away
 * past the retries, `finish` throws {@link JobRecordUnavailableError} (the
 * client hears UNAVAILABLE, never a summary the record does not hold) and the
 * end stays pending: the registry keeps the lease and writes it when the
 * database is back.
 */
import { retryTransient } from "../../shared/mongo/retry-transient.js";
import { JobLeaseLostError, JobRecordUnavailableError } from "../errors.js";
import type { JobStore, RowErrorSink } from "./job-store.js";
import type { JobDocument, JobOutcome, JobProgress } from "./job-types.js";

export interface JobRecordSettings {
  /** The instance that runs the job (the lease's owner). */
  owner: string;
  /** Shortest time between two progress writes, ms. */
  progressSaveMs: number;
  /** How long each write keeps the job alive, ms. */
  leaseMs: number;
  /** Attempts at writing the end before the caller is told the database is unavailable. */
  finishAttempts?: number;
}

type Phase = "running" | "finishing" | "pending" | "ended" | "lost";

export class JobRecord {
  private phase: Phase = "running";
  private latest: JobProgress | undefined;
  private dirty = false;
  private lastWrite = 0;
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private pendingEnd: { outcome: JobOutcome; errors?: RowErrorSink } | undefined;

  constructor(
    private readonly store: JobStore,
    readonly job: JobDocument,
    private readonly settings: JobRecordSettings,
    /** Called once when another instance ended the job while it ran here. */
    private readonly onLost: (error: JobLeaseLostError) => void,
    private readonly errors?: RowErrorSink,
    private readonly log: (...args: unknown[]) => void = () => undefined,
  ) {}

  get id(): string {
    return this.job._id;
  }

  /** Whether the end could not be written yet (the database is away). */
  get endPending(): boolean {
    return this.phase === "pending";
  }

  /**
   * What the job has done so far; written within `progressSaveMs` (and at
   * the latest with the next lease renewal), the newest values only.
   */
  progress(progress: JobProgress): void {
    if (this.phase !== "running") return;
    this.latest = progress;
    this.dirty = true;
    if (this.timer) return;
    const wait = Math.max(0, this.lastWrite + this.settings.progressSaveMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.renew();
    }, wait);
    this.timer.unref();
  }

  /** Writes what is pending and renews the lease; never throws (the next renewal tries again). */
  renew(): Promise<void> {
    if (this.phase === "pending") return this.enqueue(() => this.writeEnd().then(() => undefined, () => undefined));
    return this.enqueue(async () => {
      if (this.phase !== "running") return;
      const progress = this.dirty ? this.latest : undefined;
      this.dirty = false;
      this.lastWrite = Date.now();
      try {
        // Row errors first, so the stored errors cover the counts the record shows.
        await this.errors?.flush();
        if (!(await this.store.sync(this.id, this.settings.owner, progress, this.settings.leaseMs))) this.lose();
      } catch (error) {
        if (progress) this.dirty = true;
        this.log("could not write the progress of job", this.id, error);
      }
    });
  }

  /**
   * Writes the job's end once every earlier write has landed. Resolves true
   * when written, false when the job was no longer this instance's (another
   * instance ended it: its first outcome stands). Throws
   * {@link JobRecordUnavailableError} when the database stayed away through
   * the retries; the end is then kept and written by a later {@link renew}.
   */
  async finish(outcome: JobOutcome): Promise<boolean> {
    if (this.phase === "lost") return false;
    if (this.phase !== "running") throw new Error(`job ${this.id} was already ended`);
    clearTimeout(this.timer);
    this.timer = undefined;
    this.phase = "finishing";
    this.pendingEnd = { outcome, errors: this.errors };
    let written: boolean | undefined;
    let failure: unknown;
    await this.enqueue(async () => {
      try {
        written = await this.writeEnd();
      } catch (error) {
        failure = error;
        this.phase = "pending";
      }
    });
    if (written !== undefined) return written;
    throw new JobRecordUnavailableError(this.id, failure);
  }

  private async writeEnd(): Promise<boolean> {
    const end = this.pendingEnd!;
    const written = await retryTransient(() => this.store.finish(this.id, this.settings.owner, this.job.startedAt ?? this.job.createdAt, end.outcome, end.errors), {
      attempts: this.settings.finishAttempts ?? 6,
      onRetry: (error, attempt) => this.log(`retrying the end of job ${this.id} (attempt ${attempt + 1})`, error),
    });
    this.phase = written ? "ended" : "lost";
    this.pendingEnd = undefined;
    return written;
  }

  /** Stops progress writes (the job is over without an end of its own to write). */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.phase === "running") this.phase = "ended";
  }

  private lose(): void {
    if (this.phase !== "running") return;
    this.phase = "lost";
    clearTimeout(this.timer);
    this.onLost(new JobLeaseLostError(this.id));
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.queue.then(step, step);
    this.queue = next.catch(() => undefined);
    return this.queue;
  }
}
