/**
 * What moving rows counts. One type for the import pipeline's tally, its
 * progress and summary, the job record and the records service's answers, so
 * that a count has one name wherever it travels.
 */

/** Rows read, and each row's outcome. Unless a strict import aborted, the outcomes add up to `read`. */
export interface RowCounts {
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  skipped: number;
  failed: number;
}

/** The outcomes a writer reports for the records it was given. */
export type WriteCounts = Pick<RowCounts, "inserted" | "updated" | "unchanged" | "skipped">;

export function emptyRowCounts(): RowCounts {
  return { read: 0, inserted: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0 };
}
