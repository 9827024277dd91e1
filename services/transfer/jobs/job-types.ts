/**
 * What a job is, as stored in the transfer service's own `jobs` collection.
 * Plain JSON-friendly values only (no user-chosen keys: options and labels are
 * kept as JSON text), so that any MongoDB deployment, FerretDB included, takes
 * them as they are.
 */
import { emptyRowCounts, type EntityName, type RowCounts, type RowError, type WriteMode } from "../../domain/index.js";

export type JobKind = "import" | "export" | "revert";
export type JobState = "running" | "succeeded" | "failed" | "cancelled";
import type { ImportBudget } from "../core/import-budget.js";

/** An import's counts, an export's records, and what a revert did (set on reverts only). */
export interface JobCounts extends RowCounts {
  exported: number;
  /** Revert: records put back as they were before the import. */
  restored?: number;
  /** Revert: records the import had inserted, deleted. */
  deleted?: number;
  /** Revert: records left as they are, each a row error. */
  refused?: number;
}

export interface JobDocument {
  _id: string;
  kind: JobKind;
  state: JobState;
  subject: string;
  /** Unset for an export of the audit trail. */
  entity?: EntityName;
  /** Export: what was read; unset means records. */
  source?: "records" | "audit" | "deletions";
  /** Export: records changed (deletions made) at or after this time only. */
  changedSince?: Date;
  /** Export of records or deletions: the `changedSince` for the next incremental export. */
  highWaterMark?: Date;
  format: string;
  /** Import: how the format was chosen when the request named none (file name or content, in words). */
  formatChosenBy?: string;
  /** Import: the error budget and change guard asked for. */
  budget?: ImportBudget;
  /** The format options as sent, JSON text. */
  formatOptions: string;
  /** Export: the filter as protobuf JSON text. */
  filter?: string;
  /** Export of the audit trail: its filter as JSON text (`auditQueryJson`). */
  auditFilter?: string;
  fields?: string[];
  sort?: { field: string; descending: boolean }[];
  limit?: number;
  /** Export: column labels as JSON text. */
  labels?: string;
  mode?: WriteMode;
  strict?: boolean;
  dryRun?: boolean;
  fileName?: string;
  /** Import: the file's size when known before it was read (see ImportJobRequest.fileSize). */
  fileSize?: number;
  /** Import through POST /import: the client's name for its request (`X-Request-Id`), by which a client that lost the answer finds the job. */
  requestId?: string;
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  durationMs?: number;
  counts: JobCounts;
  bytes: number;
  sha256?: string;
  /** The first {@link FIRST_ERRORS} row errors; all of them (up to the cap) are in job_row_errors. */
  errors: RowError[];
  errorCount: number;
  /** Why the job failed or was cancelled. */
  error?: string;
  errorCode?: string;
  strictAborted?: boolean;
  /** A bundle export: each entity in the file, in order, with its records exported (set at the end). */
  parts?: JobPart[];
  /**
   * The lease of a running job: the instance of the transfer service that
   * runs it (`host:pid:random`), when it last wrote the record, and until when
   * the job counts as alive without another write. Another instance may fail
   * a running job whose lease has expired (its process died). Kept after the
   * job ends: which instance ran it.
   */
  owner?: string;
  heartbeatAt?: Date;
  leaseExpiresAt?: Date;
  /** Import: until when RevertImport can undo it (the records service keeps its before-images until then). */
  revertibleUntil?: Date;
  /** Import: the revert job that undid it (or is undoing it, or tried and failed). */
  revertedBy?: string;
  /** Revert: the import it undoes. */
  revertOf?: string;
}

/** One entity of a bundle: an export's (how many of its records the file holds) or an import's (its rows' counts). */
export interface JobPart {
  entity: EntityName;
  /** Its file in a ZIP bundle (`users.csv`), or its sheet in a workbook (`users`). */
  name: string;
  /** Export: records written to the file (0 for an import's part). */
  exported: number;
  /** Import: the part's row counts (read, inserted, updated, unchanged, skipped, failed). */
  counts?: RowCounts;
  /** Import: how the part was written. */
  mode?: WriteMode;
  /** Import: the format the part was read as, and its options (JSON text): its rejected rows are written back in that form. */
  format?: string;
  formatOptions?: string;
  /** What of the entity was asked for, as a single export's job keeps it: the filter as protobuf JSON text, fields, limit. */
  filter?: string;
  fields?: string[];
  limit?: number;
}

/** What a running job has done so far, as written to its record while it runs. */
export interface JobProgress {
  counts: Partial<JobCounts>;
  bytes: number;
  /** Row errors found so far (import). */
  errorCount?: number;
}

/** Row errors embedded in the job document. */
export const FIRST_ERRORS = 100;

export function emptyCounts(): JobCounts {
  return { ...emptyRowCounts(), exported: 0 };
}

/** What a job ends with. */
export interface JobOutcome {
  state: Exclude<JobState, "running">;
  counts?: Partial<JobCounts>;
  bytes?: number;
  sha256?: string;
  error?: string;
  errorCode?: string;
  strictAborted?: boolean;
  /** Import: until when it can be reverted (the earliest expiry the records service gave its writes). */
  revertibleUntil?: Date;
  /** A bundle export's parts with their counts. */
  parts?: JobPart[];
}
