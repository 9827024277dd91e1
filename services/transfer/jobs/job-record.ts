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
 * through transient errors (the services' retry budget). When what it needs
 * stays away — the database, or the records service an import's unanswered
 * writes are settled with — the end waits in the background until it is
 * back (`endings`), and a job that had succeeded tells its caller so with
 * {@link JobRecordUnavailableError} (UNAVAILABLE), never with a summary the
 * record does not hold.
 */
import { retryTransient } from "../../shared/mongo/transient-retry.js";
import type { OutageRetries } from "../../shared/mongo/outage-retries.js";
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
  /** Whether an error means "away for now": the end then waits for it in the background. */
  isOutage: (error: unknown) => boolean;
  /** Where ends wait for an outage to pass. */
  endings: OutageRetries;
}

/** How a job ends. */
export interface JobEnd {
  /** The outcome, worked out when the end is written (it may ask the records service first); may run again after an outage. */
  outcome: () => Promise<JobOutcome>;
  /** Runs once the end is written (the audit event). */
  after?: (outcome: JobOutcome) => Promise<void>;
  /** The job failed because something was unavailable: write the end in the background at once, the caller does not wait. */
  background?: boolean;
}

type Phase = "running" | "finishing" | "pending" | "ended" | "lost";

export class JobRecord {
  private phase: Phase = "running";
  private latest: JobProgress | undefined;
  /** Where the latest progress can be read at any time (what the records service has answered, while the file stalls). */
  private source: (() => JobProgress) | undefined;
  private dirty = false;
  private lastWrite = 0;
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();

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

  /** Whether the end waits for an outage to pass. */
  get endPending(): boolean {
    return this.phase === "pending";
  }

  /**
   * Reads the job's progress from `source` at every write from now on, lease
   * renewals included: what changes while the job waits (a stalled upload
   * whose batches the records service answers) reaches the record too.
   */
  follow(source: () => JobProgress): void {
    this.source = source;
  }

  /**
   * What the job has done so far (or, without an argument, that its source
   * changed); written within `progressSaveMs` (and at the latest with the
   * next lease renewal), the newest values only.
   */
  progress(progress?: JobProgress): void {
    if (this.phase !== "running") return;
    if (progress) this.latest = progress;
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
    return this.enqueue(async () => {
      if (this.phase !== "running") return;
      const progress = this.source ? this.source() : this.dirty ? this.latest : undefined;
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
   * instance ended it: its first outcome stands), and undefined when the end
   * went to wait in the background (`background`, or an outage that outlasted
   * the retries of a job that had not succeeded). Throws
   * {@link JobRecordUnavailableError} when a job that succeeded could not be
   * recorded: its end then waits in the background too.
   */
  async finish(end: JobEnd, succeeded: boolean): Promise<boolean | undefined> {
    if (this.phase === "lost") return false;
    if (this.phase !== "running") throw new Error(`job ${this.id} was already ended`);
    clearTimeout(this.timer);
    this.timer = undefined;
    this.phase = "finishing";
    const attempt = async (): Promise<boolean> => {
      const outcome = await end.outcome();
      const written = await this.store.finish(this.id, this.settings.owner, this.job.startedAt ?? this.job.createdAt, outcome, this.errors);
      this.phase = written ? "ended" : "lost";
      if (written) await end.after?.(outcome);
      return written;
    };
    let result: { written: boolean } | { failure: unknown } | undefined;
    await this.enqueue(async () => {
      if (end.background) return;
      try {
        result = { written: await retryTransient(attempt, { retryable: this.settings.isOutage }) };
      } catch (failure) {
        result = { failure };
      }
    });
    if (result && "written" in result) return result.written;
    const failure = result?.failure;
    if (failure !== undefined && !this.settings.isOutage(failure)) {
      this.phase = "ended";
      this.log(`could not record the end of job ${this.id}`, failure);
      if (succeeded) throw new JobRecordUnavailableError(this.id, failure);
      return undefined;
    }
    this.phase = "pending";
    this.settings.endings.defer(`the end of job ${this.id}`, async () => void (await attempt()), failure);
    if (succeeded) throw new JobRecordUnavailableError(this.id, failure);
    return undefined;
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
    this.queue = this.queue.then(step).catch(() => undefined);
    return this.queue;
  }
}
