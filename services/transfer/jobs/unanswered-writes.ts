/**
 * Settles the rows of an import whose write batches the records service
 * never answered — its stream failed because the database (or the records
 * service itself) went away while they were being written. Each of those
 * rows may or may not be stored, and a job must neither report rows
 * written that are not there nor leave out rows that are.
 *
 * Once the records service answers again, the rows are checked with a dry
 * run in upsert mode, which looks each one up by its natural key and
 * compares the stored fields with the row's: "unchanged" means a record
 * with the row's key and the row's values is stored — the row was written.
 * Anything else (no such key; a different record under it) means it was not.
 * Write-only fields (passwords) are left out of the check: they cannot be
 * compared, and without them the rest of the row still can.
 *
 * What this cannot tell: a row identical to a record stored before the
 * import counts as written (the import would have found it existing); in
 * upsert and merge mode, whether a stored row was inserted or updated (it is
 * counted as updated). Append-only entities (the activity log) have no
 * natural key to look rows up by: their unanswered rows are reported as
 * unknown, never as written.
 */
import type { EntitySpec, WriteMode } from "../../domain/index.js";
import { RecordsStreamWriter } from "../records/records-writer.js";
import type { RecordsClient } from "../records/records-client.js";

/** Rows per check batch (the import's own default batch size). */
const CHECK_BATCH = 1_000;

export interface Settlement {
  /** Rows found stored with the values sent. */
  written: number;
  /** Rows checked and found not stored. */
  notWritten: number;
  /** Rows that could not be checked (no natural key). */
  unknown: number;
}

/**
 * Checks `rows` against what is stored; throws what the records service
 * throws (UNAVAILABLE while it or its database is still away), so the caller
 * can try again later.
 */
export async function settleUnansweredRows(records: RecordsClient, spec: EntitySpec, rows: Record<string, unknown>[], signal?: AbortSignal): Promise<Settlement> {
  if (rows.length === 0) return { written: 0, notWritten: 0, unknown: 0 };
  if (spec.appendOnly) return { written: 0, notWritten: 0, unknown: rows.length };
  const secret = spec.fields.filter((f) => f.writeOnly).map((f) => f.key);
  const checker = new RecordsStreamWriter(records, spec, signal);
  let written = 0;
  try {
    for (let offset = 0; offset < rows.length; offset += CHECK_BATCH) {
      const batch = rows.slice(offset, offset + CHECK_BATCH).map((row) => withoutFields(row, secret));
      const result = await checker.write(batch, { mode: "upsert", dryRun: true });
      written += result.unchanged;
    }
  } finally {
    await checker.close();
  }
  return { written, notWritten: rows.length - written, unknown: 0 };
}

/** Where settled rows are counted in the job: an insert that landed is inserted; an upsert or merge cannot tell. */
export function settledCountKey(mode: WriteMode): "inserted" | "updated" {
  return mode === "insert" || mode === "skip-existing" ? "inserted" : "updated";
}

/** What the job's error says about the settled rows. */
export function describeSettlement(settlement: Settlement, mode: WriteMode): string {
  const parts: string[] = [];
  if (settlement.written > 0) {
    parts.push(`${settlement.written} row(s) of the batches in flight were found stored with the file's values and are counted as ${settledCountKey(mode)}`);
  }
  if (settlement.notWritten > 0) parts.push(`${settlement.notWritten} row(s) of the batches in flight were not written`);
  if (settlement.unknown > 0) parts.push(`${settlement.unknown} row(s) of the batches in flight may or may not be stored (entries without a natural key cannot be looked up)`);
  return parts.join("; ");
}

function withoutFields(row: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  if (!fields.some((f) => row[f] !== undefined)) return row;
  const copy = { ...row };
  for (const f of fields) delete copy[f];
  return copy;
}
