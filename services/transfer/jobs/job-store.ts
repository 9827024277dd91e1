/**
 * The jobs and their row errors, in the transfer service's own database:
 * `jobs` (one document per import or export) and `job_row_errors` (every
 * rejected row of a job, up to a cap, in the order found).
 *
 * Row errors are written in batches as they arrive, so a file with a million
 * bad rows costs flat memory; the job document keeps only the first 100 and
 * the total.
 */
import { ensureCollectionIndexes } from "../../shared/mongo/ensure-indexes.js";
import { afterPosition, decodePageToken, encodePageToken } from "../../shared/mongo/page-token.js";
import { randomUUID } from "node:crypto";
import { MongoServerError, type Collection, type Db, type Document, type Filter, type UpdateFilter } from "mongodb";
import type { EntityName, RowError } from "../../domain/index.js";
import { InvalidTransferRequestError, JobNotFoundError } from "../errors.js";
import { emptyCounts, FIRST_ERRORS, type JobDocument, type JobKind, type JobOutcome, type JobProgress, type JobState } from "./job-types.js";

export interface RowErrorDocument extends RowError {
  jobId: string;
  /** Order of discovery within the job. */
  seq: number;
}

export type NewJob = Omit<JobDocument, "_id" | "state" | "createdAt" | "startedAt" | "counts" | "bytes" | "errors" | "errorCount" | "owner" | "heartbeatAt" | "leaseExpiresAt">;

/** A request to cancel a running job, for whichever instance runs it. */
export interface CancelRequestDocument {
  _id: string;
  requestedAt: Date;
  subject: string;
}

export interface JobQuery {
  subject?: string;
  /** A job of this entity, or a bundle job with a part of it. */
  entity?: EntityName;
  state?: JobState;
  kind?: JobKind;
  createdFrom?: Date;
  createdTo?: Date;
  /** The job started by the request the client named so (`X-Request-Id`). */
  requestId?: string;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;
const ERROR_FLUSH = 500;
const MAX_TEXT = 2000;

/** FerretDB refuses NUL characters, and an error report needs no megabyte values. */
export function storableText(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const clean = value.replace(/\u0000/g, "\uFFFD");
  return clean.length > MAX_TEXT ? `${clean.slice(0, MAX_TEXT)}…` : clean;
}

export class JobStore {
  readonly jobs: Collection<JobDocument>;
  readonly rowErrors: Collection<RowErrorDocument>;
  readonly cancelRequests: Collection<CancelRequestDocument>;

  constructor(
    db: Db,
    /** Row errors kept per job; later ones are counted only. */
    readonly maxStoredRowErrors = 100_000,
  ) {
    this.jobs = db.collection<JobDocument>("jobs");
    this.rowErrors = db.collection<RowErrorDocument>("job_row_errors");
    this.cancelRequests = db.collection<CancelRequestDocument>("job_cancel_requests");
  }

  async ensureIndexes(): Promise<void> {
    await ensureCollectionIndexes(this.jobs as unknown as Collection<Document>, [
      { key: { createdAt: -1, _id: -1 }, name: "created" },
      { key: { subject: 1, createdAt: -1 }, name: "subject_created" },
      { key: { state: 1 }, name: "state" },
      { key: { state: 1, leaseExpiresAt: 1 }, name: "state_lease" },
      // A client that lost its answer asks which job its request started (GET /jobs?request_id=): a look-up, not a scan of every job ever run.
      { key: { requestId: 1, createdAt: -1 }, name: "request_created" },
    ]);
    await ensureCollectionIndexes(this.rowErrors as unknown as Collection<Document>, [{ key: { jobId: 1, seq: 1 }, name: "job_seq", unique: true }]);
  }

  /** Records a new running job, leased to `lease.owner` for `lease.leaseMs`. */
  async create(job: NewJob, lease: { owner: string; leaseMs: number }): Promise<JobDocument> {
    const now = new Date();
    const doc: JobDocument = {
      ...job,
      _id: randomUUID(),
      state: "running",
      createdAt: now,
      startedAt: now,
      counts: emptyCounts(),
      bytes: 0,
      errors: [],
      errorCount: 0,
      owner: lease.owner,
      heartbeatAt: now,
      leaseExpiresAt: new Date(now.getTime() + lease.leaseMs),
    };
    for (const key of Object.keys(doc) as (keyof JobDocument)[]) if (doc[key] === undefined) delete doc[key];
    await this.jobs.insertOne(doc);
    return doc;
  }

  /**
   * Writes a running job's progress and renews its lease. Counts, bytes and
   * the error count only move forward (`$max`), whatever order writes land
   * in. False when the job is no longer running under `owner` (another
   * instance ended it after its lease expired): the owner has lost it.
   */
  async sync(id: string, owner: string, progress: JobProgress | undefined, leaseMs: number): Promise<boolean> {
    const now = new Date();
    const update: UpdateFilter<JobDocument> = { $set: { heartbeatAt: now, leaseExpiresAt: new Date(now.getTime() + leaseMs) } };
    if (progress) update.$max = forward(progress);
    const result = await this.jobs.updateOne({ _id: id, state: "running", owner }, update);
    return result.matchedCount === 1;
  }

  /**
   * Ends a job that `owner` runs, with its final counts (which, like every
   * count, only move forward). False when it was not running under `owner`
   * any more: a job that already ended keeps its first outcome.
   */
  async finish(id: string, owner: string, startedAt: Date, outcome: JobOutcome, errors?: RowErrorSink): Promise<boolean> {
    await errors?.flush();
    const finishedAt = new Date();
    const set: Record<string, unknown> = { state: outcome.state, finishedAt, durationMs: finishedAt.getTime() - startedAt.getTime() };
    if (outcome.sha256) set.sha256 = outcome.sha256;
    if (outcome.error) set.error = storableText(outcome.error);
    if (outcome.errorCode) set.errorCode = outcome.errorCode;
    if (outcome.strictAborted) set.strictAborted = true;
    if (outcome.revertibleUntil) set.revertibleUntil = outcome.revertibleUntil;
    if (outcome.parts) set.parts = outcome.parts;
    if (errors) set.errors = errors.first;
    const max = forward({ counts: outcome.counts ?? {}, bytes: outcome.bytes ?? 0, errorCount: errors?.count });
    const result = await this.jobs.updateOne({ _id: id, state: "running", owner }, { $set: set, $max: max } as UpdateFilter<JobDocument>);
    return result.matchedCount === 1;
  }

  /**
   * Running jobs whose lease ran out before `now`, and running jobs written
   * by a version without leases that are older than `leaseMs`.
   */
  async expired(now: Date, leaseMs: number): Promise<JobDocument[]> {
    return this.jobs
      .find({
        state: "running",
        $or: [{ leaseExpiresAt: { $lt: now } }, { leaseExpiresAt: { $exists: false }, createdAt: { $lt: new Date(now.getTime() - leaseMs) } }],
      })
      .toArray();
  }

  /**
   * Fails a running job whose instance stopped, keeping the counts it had
   * recorded, provided its lease is still the one `job` was read with (its
   * owner did not come back meanwhile). Its row errors are those stored.
   * The ended job, or undefined when something else ended or renewed it first.
   */
  async failStopped(job: JobDocument, reason: string): Promise<JobDocument | undefined> {
    const stored = await this.rowErrors.find({ jobId: job._id }, { sort: { seq: 1 }, limit: FIRST_ERRORS, projection: { _id: 0, jobId: 0, seq: 0 } }).toArray();
    const storedCount = stored.length < FIRST_ERRORS ? stored.length : await this.rowErrors.countDocuments({ jobId: job._id });
    const finishedAt = new Date();
    const ending: Partial<JobDocument> = {
      state: "failed",
      finishedAt,
      durationMs: finishedAt.getTime() - (job.startedAt ?? job.createdAt).getTime(),
      error: reason,
      errorCode: "unavailable",
      errors: stored,
      errorCount: Math.max(job.errorCount, storedCount),
    };
    const lease: Filter<JobDocument> = job.leaseExpiresAt ? { leaseExpiresAt: job.leaseExpiresAt } : { leaseExpiresAt: { $exists: false } };
    const result = await this.jobs.updateOne({ _id: job._id, state: "running", ...lease }, { $set: ending });
    return result.matchedCount === 1 ? { ...job, ...ending } : undefined;
  }

  /**
   * Asks the instance that runs a job to cancel it. The request is a document
   * of its own, not a field of the job record: on FerretDB an update rewrites
   * the whole record, so a second writer of it could undo the owner's writes.
   */
  async requestCancel(id: string, subject: string): Promise<void> {
    try {
      await this.cancelRequests.insertOne({ _id: id, requestedAt: new Date(), subject });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }

  /** Which of these jobs have been asked to cancel. */
  async cancelRequested(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const found = await this.cancelRequests.find({ _id: { $in: [...ids] } }, { projection: { _id: 1 } }).toArray();
    return found.map((r) => r._id);
  }

  async clearCancelRequest(id: string): Promise<void> {
    await this.cancelRequests.deleteOne({ _id: id });
  }

  /** Cancel requests whose job is no longer running (it ended before its owner saw them). */
  async pruneCancelRequests(): Promise<void> {
    const requests = await this.cancelRequests.find({}, { projection: { _id: 1 } }).toArray();
    if (requests.length === 0) return;
    const running = await this.jobs.find({ _id: { $in: requests.map((r) => r._id) }, state: "running" }, { projection: { _id: 1 } }).toArray();
    const live = new Set(running.map((j) => j._id));
    const stale = requests.map((r) => r._id).filter((id) => !live.has(id));
    if (stale.length > 0) await this.cancelRequests.deleteMany({ _id: { $in: stale } });
  }

  async get(id: string): Promise<JobDocument> {
    const job = id ? await this.jobs.findOne({ _id: id }) : null;
    if (!job) throw new JobNotFoundError(id);
    return job;
  }

  /** Newest first; the page token is the position after the page's last job. */
  async list(query: JobQuery, pageSize = DEFAULT_PAGE_SIZE, pageToken = ""): Promise<{ jobs: JobDocument[]; nextPageToken: string }> {
    const size = Math.min(Math.max(pageSize || DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
    const and: Filter<JobDocument>[] = [];
    if (query.subject) and.push({ subject: query.subject });
    // A bundle job has no entity of its own; its parts each have one.
    if (query.entity) and.push({ $or: [{ entity: query.entity }, { "parts.entity": query.entity }] });
    if (query.state) and.push({ state: query.state });
    if (query.kind) and.push({ kind: query.kind });
    if (query.createdFrom) and.push({ createdAt: { $gte: query.createdFrom } });
    if (query.createdTo) and.push({ createdAt: { $lt: query.createdTo } });
    if (query.requestId) and.push({ requestId: query.requestId });
    if (pageToken) {
      const after = decodePageToken(pageToken);
      if (after === undefined) throw new InvalidTransferRequestError("the page token is not one this service issued", "page_token");
      and.push(afterPosition("createdAt", after) as Filter<JobDocument>);
    }
    const filter: Filter<JobDocument> = and.length === 0 ? {} : and.length === 1 ? and[0]! : { $and: and };
    const jobs = await this.jobs.find(filter, { sort: { createdAt: -1, _id: -1 }, limit: size + 1 }).toArray();
    const more = jobs.length > size;
    if (more) jobs.length = size;
    const last = jobs[jobs.length - 1];
    return { jobs, nextPageToken: more && last ? encodePageToken({ time: last.createdAt, id: last._id }) : "" };
  }

  /** A job's stored row errors in the order found, read in batches. */
  rowErrorsOf(jobId: string): AsyncIterable<RowErrorDocument> {
    return this.rowErrors.find({ jobId }, { sort: { seq: 1 }, batchSize: 1000, projection: { _id: 0 } });
  }

  sink(jobId: string): RowErrorSink {
    return new RowErrorSink(this, jobId);
  }
}

/**
 * Collects a job's row errors: keeps the first {@link FIRST_ERRORS} for the
 * job document and writes the rest to job_row_errors in batches, up to the
 * store's cap.
 */
export class RowErrorSink {
  readonly first: RowError[] = [];
  count = 0;
  private buffer: RowErrorDocument[] = [];

  constructor(
    private readonly store: JobStore,
    private readonly jobId: string,
  ) {}

  /** Adds one error; resolves once a full batch has been written. */
  async add(error: RowError): Promise<void> {
    const clean: RowError = { row: error.row, reason: storableText(error.reason) ?? "", code: error.code || "invalid" };
    if (error.part !== undefined) clean.part = storableText(error.part);
    if (error.line !== undefined) clean.line = error.line;
    if (error.column !== undefined) clean.column = storableText(error.column);
    if (error.value !== undefined) clean.value = storableText(error.value);
    if (error.personal !== undefined) clean.personal = error.personal.map((p) => storableText(p)!);
    this.count++;
    if (this.first.length < FIRST_ERRORS) this.first.push(clean);
    if (this.count > this.store.maxStoredRowErrors) return;
    this.buffer.push({ ...clean, jobId: this.jobId, seq: this.count });
    if (this.buffer.length >= ERROR_FLUSH) await this.flush();
  }

  /**
   * Writes the errors buffered so far. A batch that fails stays buffered for
   * the next flush; errors of it that had landed are then refused by the
   * (jobId, seq) index and skipped, so a retried flush never stores one twice.
   */
  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    try {
      await this.store.rowErrors.insertMany(batch, { ordered: false });
    } catch (error) {
      if (isDuplicateKey(error)) return;
      this.buffer = batch.concat(this.buffer);
      throw error;
    }
  }
}

/** Counts, bytes and error count as `$max` operands: they only ever move forward. */
function forward(progress: JobProgress): Record<string, number> {
  const max: Record<string, number> = { bytes: progress.bytes };
  for (const [key, value] of Object.entries(progress.counts)) if (value !== undefined) max[`counts.${key}`] = value;
  if (progress.errorCount !== undefined) max.errorCount = progress.errorCount;
  return max;
}

/** A duplicate key refusal (11000), alone or as every error of an unordered bulk insert. */
function isDuplicateKey(error: unknown): boolean {
  if (!(error instanceof MongoServerError)) return false;
  if (error.code === 11000) return true;
  const writeErrors = (error as MongoServerError & { writeErrors?: { code?: number }[] }).writeErrors;
  return Array.isArray(writeErrors) && writeErrors.length > 0 && writeErrors.every((e) => e.code === 11000);
}
