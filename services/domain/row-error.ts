/**
 * One rejected row, or one rejected field of a row: what the import reports
 * as it runs, what the job record keeps and what the views and wire show.
 */

/** Why a row was rejected. */
export type RowErrorCode =
  | "invalid"
  | "duplicate_in_file"
  | "exists"
  | "duplicate_key"
  | "missing_reference"
  | "format"
  | "limit"
  | "not_attempted"
  /** The database refused a write for a reason the records service could not explain. */
  | "internal"
  /** Revert: the record changed (or was deleted) since the import, and is left as it is. */
  | "changed"
  /** Revert: the record the import inserted is referenced by other records, and is kept. */
  | "referenced"
  /** Revert: an entry of the append-only activity log cannot be removed. */
  | "append_only"
  /** Revert: the record's before-image expired before the revert reached it. */
  | "expired";

export interface RowError {
  /** A bundle import: the part the row is in, its sheet (`users`) or ZIP entry (`users.csv`); absent for a single file. */
  part?: string;
  /** The data row, from 1; 0 is the header. */
  row: number;
  line?: number;
  column?: string;
  value?: string;
  reason: string;
  code: RowErrorCode;
  /**
   * The row's personal values (emails, names) that this error shows, in its
   * value or reason: what a reader without `pii` must not see in the job's
   * views (transfer/jobs/job-views.ts). Never shown itself.
   */
  personal?: string[];
}
