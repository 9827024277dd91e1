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
import { randomUUID } from "node:crypto";
import type { Collection, Db, Document, Filter } from "mongodb";
import type { EntityName } from "../../domain/index.js";
import { InvalidTransferRequestError, JobNotFoundError } from "../errors.js";
import { emptyCounts, FIRST_ERRORS, type JobCounts, type JobDocument, type JobKind, type JobOutcome, type JobState, type RowErrorRecord } from "./job-types.js";

export interface RowErrorDocument extends RowErrorRecord {
  jobId: string;
  /** Order of discovery within the job. */
  seq: number;
}

export type NewJob = Omit<JobDocument, "_id" | "state" | "createdAt" | "startedAt" | "counts" | "bytes" | "errors" | "errorCount">;

export interface JobQuery {
  subject?: string;
  entity?: EntityName;
  state?: JobState;
  kind?: JobKind;
  createdFrom?: Date;
  createdTo?: Date;
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

  constructor(
    db: Db,
    /** Row errors kept per job; later ones are counted only. */
    readonly maxStoredRowErrors = 100_000,
  ) {
    this.jobs = db.collection<JobDocument>("jobs");
    this.rowErrors = db.collection<RowErrorDocument>("job_row_errors");
  }

  async ensureIndexes(): Promise<void> {
    await ensureCollectionIndexes(this.jobs as unknown as Collection<Document>, [
      { key: { createdAt: -1, _id: -1 }, name: "created" },
      { key: { subject: 1, createdAt: -1 }, name: "subject_created" },
      { key: { state: 1 }, name: "state" },
    ]);
    await ensureCollectionIndexes(this.rowErrors as unknown as Collection<Document>, [{ key: { jobId: 1, seq: 1 }, name: "job_seq", unique: true }]);
  }

  async create(job: NewJob): Promise<JobDocument> {
    const now = new Date();
    const doc: JobDocument = { ...job, _id: randomUUID(), state: "running", createdAt: now, startedAt: now, counts: emptyCounts(), bytes: 0, errors: [], errorCount: 0 };
    for (const key of Object.keys(doc) as (keyof JobDocument)[]) if (doc[key] === undefined) delete doc[key];
    await this.jobs.insertOne(doc);
    return doc;
  }

  /** Counts so far, for GetJob while the job runs. */
  async progress(id: string, counts: Partial<JobCounts>, bytes: number): Promise<void> {
    const set: Record<string, unknown> = { bytes };
    for (const [key, value] of Object.entries(counts)) set[`counts.${key}`] = value;
    await this.jobs.updateOne({ _id: id, state: "running" }, { $set: set });
  }

  /** Ends a running job; a job that already ended keeps its first outcome. */
  async finish(id: string, outcome: JobOutcome, errors?: RowErrorSink): Promise<JobDocument | undefined> {
    await errors?.flush();
    const job = await this.jobs.findOne({ _id: id });
    if (!job || job.state !== "running") return job ?? undefined;
    const finishedAt = new Date();
    const set: Partial<JobDocument> & Record<string, unknown> = {
      state: outcome.state,
      finishedAt,
      durationMs: finishedAt.getTime() - (job.startedAt ?? job.createdAt).getTime(),
      counts: { ...job.counts, ...outcome.counts },
    };
    if (outcome.bytes !== undefined) set.bytes = outcome.bytes;
    if (outcome.sha256) set.sha256 = outcome.sha256;
    if (outcome.error) set.error = storableText(outcome.error);
    if (outcome.errorCode) set.errorCode = outcome.errorCode;
    if (outcome.strictAborted) set.strictAborted = true;
    if (errors) {
      set.errors = errors.first;
      set.errorCount = errors.count;
    }
    await this.jobs.updateOne({ _id: id, state: "running" }, { $set: set });
    return (await this.jobs.findOne({ _id: id })) ?? undefined;
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
    if (query.entity) and.push({ entity: query.entity });
    if (query.state) and.push({ state: query.state });
    if (query.kind) and.push({ kind: query.kind });
    if (query.createdFrom) and.push({ createdAt: { $gte: query.createdFrom } });
    if (query.createdTo) and.push({ createdAt: { $lt: query.createdTo } });
    if (pageToken) {
      const after = decodePageToken(pageToken);
      and.push({ $or: [{ createdAt: { $lt: after.createdAt } }, { createdAt: after.createdAt, _id: { $lt: after.id } }] });
    }
    const filter: Filter<JobDocument> = and.length === 0 ? {} : and.length === 1 ? and[0]! : { $and: and };
    const jobs = await this.jobs.find(filter, { sort: { createdAt: -1, _id: -1 }, limit: size + 1 }).toArray();
    const more = jobs.length > size;
    if (more) jobs.length = size;
    const last = jobs[jobs.length - 1];
    return { jobs, nextPageToken: more && last ? encodePageToken(last) : "" };
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
  readonly first: RowErrorRecord[] = [];
  count = 0;
  private buffer: RowErrorDocument[] = [];

  constructor(
    private readonly store: JobStore,
    private readonly jobId: string,
  ) {}

  /** Adds one error; resolves once a full batch has been written. */
  async add(error: RowErrorRecord): Promise<void> {
    const clean: RowErrorRecord = { row: error.row, reason: storableText(error.reason) ?? "", code: error.code || "invalid" };
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

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    await this.store.rowErrors.insertMany(batch, { ordered: false });
  }
}

function encodePageToken(job: JobDocument): string {
  return Buffer.from(JSON.stringify({ c: job.createdAt.getTime(), i: job._id }), "utf8").toString("base64url");
}

function decodePageToken(token: string): { createdAt: Date; id: string } {
  try {
    const value = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { c?: unknown; i?: unknown };
    if (typeof value.c === "number" && typeof value.i === "string") return { createdAt: new Date(value.c), id: value.i };
  } catch {
    // fall through
  }
  throw new InvalidTransferRequestError("the page token is not one this service issued", "page_token");
}
