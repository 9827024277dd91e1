/**
 * An import's error budget and change guard (Canvas SIS' change_threshold,
 * in the terms of this product): a lenient import that rejects more rows
 * than `maxErrors`, or a larger share than `maxErrorRatio`, stops; an upsert
 * or merge that would change more existing records than `maxChanges` stops
 * before it changes them. What was written before a stop stays written and is
 * reported exactly (a strict import writes nothing anyway).
 *
 * The ratio is judged once `RATIO_MIN_ROWS` rows were read — one bad row
 * among the first three is no trend — and always at the end of the file,
 * before the last batch is written.
 */
import type { RowCounts as ImportCounts } from "../../domain/index.js";
import { TransferSettingsError } from "./errors.js";

export interface ImportBudget {
  /** Most rows a lenient import may reject; one more stops it. */
  maxErrors?: number;
  /** Largest share of rejected rows (0 < r < 1) a lenient import may have. */
  maxErrorRatio?: number;
  /** Most existing records an upsert or merge may change (updated); the batch that would pass it is not written. */
  maxChanges?: number;
}

/** Rows read before the ratio is judged mid-file. */
export const RATIO_MIN_ROWS = 100;

/** Checks a budget against the import it is for; a budget that cannot apply is refused, not ignored. */
export function checkBudget(budget: ImportBudget | undefined, settings: { strict: boolean; mode: string }): ImportBudget {
  if (!budget) return {};
  const issues: { setting: string; reason: string }[] = [];
  const { maxErrors, maxErrorRatio, maxChanges } = budget;
  if (maxErrors !== undefined && (!Number.isInteger(maxErrors) || maxErrors < 0)) issues.push({ setting: "max_errors", reason: "must be a whole number, 0 or more" });
  if (maxErrorRatio !== undefined && !(maxErrorRatio > 0 && maxErrorRatio < 1)) issues.push({ setting: "max_error_ratio", reason: "must be a fraction between 0 and 1 (0.05 is 5 %)" });
  if (maxChanges !== undefined && (!Number.isInteger(maxChanges) || maxChanges < 0)) issues.push({ setting: "max_changes", reason: "must be a whole number, 0 or more" });
  if (settings.strict && (maxErrors !== undefined || maxErrorRatio !== undefined)) {
    issues.push({ setting: maxErrors !== undefined ? "max_errors" : "max_error_ratio", reason: "applies to lenient imports only: a strict import writes nothing when any row is rejected" });
  }
  if (maxChanges !== undefined && settings.mode !== "upsert" && settings.mode !== "merge") {
    issues.push({ setting: "max_changes", reason: `applies to upsert and merge only: ${settings.mode} never changes an existing record` });
  }
  if (issues.length > 0) throw new TransferSettingsError(`invalid error budget: ${issues.map((i) => `${i.setting} ${i.reason}`).join("; ")}`, issues);
  return budget;
}

/** Why the rows counted so far exceed the error budget, or undefined. `final`: the whole file was read. */
export function errorBudgetExceeded(budget: ImportBudget, tally: ImportCounts, final: boolean): string | undefined {
  const { maxErrors, maxErrorRatio } = budget;
  if (maxErrors !== undefined && tally.failed > maxErrors) return `${tally.failed} rows were rejected, more than max_errors (${maxErrors})`;
  if (maxErrorRatio !== undefined && tally.read > 0 && (final || tally.read >= RATIO_MIN_ROWS) && tally.failed / tally.read > maxErrorRatio) {
    return `${tally.failed} of ${tally.read} rows were rejected (${percent(tally.failed / tally.read)}), more than max_error_ratio (${percent(maxErrorRatio)})`;
  }
  return undefined;
}

/** Why changing `more` existing records after `sofar` would pass max_changes, or undefined. */
export function changesExceeded(budget: ImportBudget, sofar: number, more: number): string | undefined {
  if (budget.maxChanges === undefined || sofar + more <= budget.maxChanges) return undefined;
  return `the file would change at least ${sofar + more} existing records, more than max_changes (${budget.maxChanges})`;
}

function percent(ratio: number): string {
  return `${Math.round(ratio * 1000) / 10} %`;
}
