/**
 * The jobs this instance of the transfer service runs, and what keeps their
 * records true when there are several instances, or when one dies:
 *
 * - **Leases.** A job's record names the instance that runs it (`owner`) and
 *   how long it stays alive without news (`leaseExpiresAt`). Every write of
 *   the record renews the lease, and a heartbeat renews it every
 *   `heartbeatMs` even when the job makes no progress (a stalled upload).
 * - **Sweeps.** When an instance starts, and every `sweepMs`, it fails the
 *   running jobs whose lease has expired — their instance died — with
 *   {@link STOPPED_REASON} and the counts they had recorded.
 * - **Cancel requests.** CancelJob on any instance stores a request in the
 *   database (job-store.ts says why it is not a field of the job record);
 *   each instance looks for requests for its own jobs every `cancelPollMs`
 *   and cancels them as if the call had reached it.
 *
 * Everything a job needs lives in the database (DESIGN.md's scale-out rule),
 * and FerretDB has no change streams, so the instances poll, with bounded
 * intervals. Each job's own writes go through its {@link JobRecord}.
 */
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import { isDatabaseUnavailable } from "../../shared/mongo/database-unavailable.js";
import { OutageRetries } from "../../shared/mongo/outage-retries.js";
import { TransferCancelledError } from "../core/errors.js";
import type { JobsConfig } from "../config/transfer-config.js";
import { JobRecord } from "./job-record.js";
import type { JobStore, NewJob, RowErrorSink } from "./job-store.js";
import type { JobDocument } from "./job-types.js";

/** The error of a job failed by a sweep. */
export const STOPPED_REASON = "the service stopped while the job was running";

/** A job started by {@link JobRegistry.start}, running in this instance. */
export interface RegisteredJob {
  job: JobDocument;
  /** Fires when the job must stop: CancelJob (on any instance), shutdown, or a lost lease (the reason says which). */
  signal: AbortSignal;
  record: JobRecord;
  /** The job's row errors (imports). */
  errors?: RowErrorSink;
  /** Call once the job's end has been written (or could not be): the job leaves the registry. */
  release(): void;
}

interface Entry {
  controller: AbortController;
  record: JobRecord;
  done: Promise<void>;
  resolve: () => void;
}

export interface JobRegistryHooks {
  log?: (...args: unknown[]) => void;
  /** Whether an error means "away for now" (a job's end then waits for it); default: the database is unavailable. */
  isOutage?: (error: unknown) => boolean;
  /** Called for each job a sweep failed (its audit event). */
  onStopped?: (job: JobDocument) => Promise<void>;
}

export class JobRegistry {
  /** This instance, as job records name it: `host:pid:random`. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly running = new Map<string, Entry>();
  /** Jobs that ended while the database was away; their ends wait in `endings`, and sweeps here leave them alone. */
  private readonly unrecorded = new Map<string, JobRecord>();
  /** Ends waiting for an outage to pass, for as long as this instance runs (then a sweep records the job as stopped). */
  private readonly endings: OutageRetries;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly busy = new Set<string>();
  private readonly log: (...args: unknown[]) => void;

  constructor(
    private readonly store: JobStore,
    private readonly settings: JobsConfig,
    private readonly hooks: JobRegistryHooks = {},
  ) {
    this.log = hooks.log ?? (() => undefined);
    this.endings = new OutageRetries(this.log, { isOutage: hooks.isOutage ?? isDatabaseUnavailable, maxWaitMs: Number.POSITIVE_INFINITY });
  }

  /**
   * Sweeps once (jobs of instances that died while this one was away), then
   * keeps leases, cancel requests and sweeps going until {@link close}. A
   * sweep that fails is logged; the next one tries again.
   */
  async begin(): Promise<void> {
    await this.sweep().catch((error: unknown) => this.log("could not look for jobs of stopped instances", error));
    const every = (ms: number, name: string, step: () => Promise<unknown>) => {
      const timer = setInterval(() => {
        if (this.busy.has(name)) return;
        this.busy.add(name);
        void step()
          .catch((error: unknown) => this.log(`job ${name} failed`, error))
          .finally(() => this.busy.delete(name));
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.settings.heartbeatMs, "heartbeat", () => this.heartbeat());
    every(this.settings.cancelPollMs, "cancel poll", () => this.pollCancelRequests());
    every(this.settings.sweepMs, "sweep", () => this.sweep());
  }

  /** Records a new job, leased to this instance, and registers it here. */
  async start(newJob: NewJob, options: { rowErrors?: boolean } = {}): Promise<RegisteredJob> {
    const job = await this.store.create(newJob, { owner: this.owner, leaseMs: this.settings.leaseMs });
    const controller = new AbortController();
    const errors = options.rowErrors ? this.store.sink(job._id) : undefined;
    const settings = { owner: this.owner, progressSaveMs: this.settings.progressSaveMs, leaseMs: this.settings.leaseMs, isOutage: this.hooks.isOutage ?? isDatabaseUnavailable, endings: this.endings };
    const record = new JobRecord(this.store, job, settings, (lost) => controller.abort(lost), errors, this.log);
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    this.running.set(job._id, { controller, record, done, resolve });
    let released = false;
    return {
      job,
      signal: controller.signal,
      record,
      errors,
      release: () => {
        if (released) return;
        released = true;
        record.close();
        this.running.delete(job._id);
        if (record.endPending) this.unrecorded.set(job._id, record);
        resolve();
      },
    };
  }

  has(jobId: string): boolean {
    return this.running.has(jobId);
  }

  /** Jobs running here (ends waiting for the database not included). */
  get size(): number {
    return this.running.size;
  }

  /**
   * Asks a job running here to stop and waits (up to `waitMs`) until it has
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

  /**
   * Cancels a running job wherever it runs: here directly; elsewhere through
   * a cancel request that its instance sees within `cancelPollMs`. Waits (up
   * to `waitMs`) for the job to end. A job whose lease has expired is failed
   * here and then (its instance stopped; nothing would see the request).
   * Resolves to the job as it then stands.
   */
  async requestCancel(jobId: string, subject: string, waitMs = 10_000): Promise<JobDocument> {
    if (await this.cancel(jobId, "cancelled by request", waitMs)) return this.store.get(jobId);
    await this.store.requestCancel(jobId, subject);
    const deadline = Date.now() + waitMs;
    for (;;) {
      const job = await this.store.get(jobId);
      if (job.state !== "running") {
        await this.store.clearCancelRequest(jobId).catch(() => undefined);
        return job;
      }
      if (isExpired(job, new Date(), this.settings.leaseMs) && !this.waitingForOutage(jobId)) {
        await this.failStopped(job);
        return this.store.get(jobId);
      }
      if (Date.now() >= deadline) return job;
      await new Promise((r) => setTimeout(r, Math.min(200, this.settings.cancelPollMs)));
    }
  }

  /** Cancels every job running here (shutdown). */
  async cancelAll(reason = "the service is shutting down", waitMs = 5_000): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.cancel(id, reason, waitMs)));
  }

  /** Stops the heartbeat, polls and sweeps, cancels the jobs running here, and stops waiting for outages to pass. */
  async close(): Promise<void> {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    await this.cancelAll();
    this.endings.close();
  }

  /** Resolves when no job's end waits for an outage any more (tests). */
  async endsRecorded(): Promise<void> {
    await this.endings.idle();
  }

  /**
   * Fails the running jobs whose lease expired (their instance stopped),
   * except this instance's own, which are alive. Resolves to those it failed.
   */
  async sweep(): Promise<JobDocument[]> {
    const failed: JobDocument[] = [];
    for (const job of await this.store.expired(new Date(), this.settings.leaseMs)) {
      if (this.running.has(job._id) || this.waitingForOutage(job._id)) continue;
      const ended = await this.failStopped(job);
      if (ended) failed.push(ended);
    }
    await this.store.pruneCancelRequests();
    return failed;
  }

  /** A job of this instance whose end waits for an outage to pass: alive, though its lease could not be renewed. */
  private waitingForOutage(jobId: string): boolean {
    return this.unrecorded.get(jobId)?.endPending ?? false;
  }

  private async failStopped(job: JobDocument): Promise<JobDocument | undefined> {
    const ended = await this.store.failStopped(job, STOPPED_REASON);
    if (!ended) return undefined;
    this.log(`job ${job._id} of instance ${job.owner ?? "(unknown)"} had no news since ${job.heartbeatAt?.toISOString() ?? job.createdAt.toISOString()}: recorded as failed (${STOPPED_REASON})`);
    await this.store.clearCancelRequest(job._id).catch(() => undefined);
    await this.hooks.onStopped?.(ended).catch((error: unknown) => this.log("could not audit the end of job", job._id, error));
    return ended;
  }

  /** Renews every lease held here. */
  private async heartbeat(): Promise<void> {
    for (const [id, record] of this.unrecorded) if (!record.endPending) this.unrecorded.delete(id);
    await Promise.all([...this.running.values()].map((e) => e.record.renew()));
  }

  private async pollCancelRequests(): Promise<void> {
    const requested = await this.store.cancelRequested([...this.running.keys()]);
    for (const id of requested) {
      const entry = this.running.get(id);
      if (entry && !entry.controller.signal.aborted) entry.controller.abort(new TransferCancelledError({ cause: "cancelled by request" }));
    }
  }
}

function isExpired(job: JobDocument, now: Date, leaseMs: number): boolean {
  if (job.leaseExpiresAt) return job.leaseExpiresAt.getTime() < now.getTime();
  return job.createdAt.getTime() < now.getTime() - leaseMs;
}
