/**
 * A job's rejected rows as a CSV file (row, line, column, value, reason,
 * code), streamed from job_row_errors a batch at a time, so that a job with a
 * hundred thousand errors is served in flat memory.
 *
 * The values came from untrusted files and the file is meant to be opened in
 * a spreadsheet, so text cells that would start a formula are prefixed with
 * `'` (OWASP "CSV injection", the SDK's escapeFormula: also after white space
 * and in fullwidth forms). A reader without `pii` gets personal values
 * withheld, as in every view of a job (job-views.ts). A bundle import's file starts
 * with a `part` column: the sheet or ZIP entry each row is in.
 */
import { stringify } from "csv-stringify/sync";
import { escapeFormula } from "../../../formats/_sdk/index.js";
import type { JobStore } from "./job-store.js";
import { rowErrorForReader } from "./job-views.js";

export const FAILED_ROWS_COLUMNS = ["row", "line", "column", "value", "reason", "code"] as const;
const BATCH = 500;

function cell(value: string | number | undefined): string {
  if (value === undefined) return "";
  if (typeof value === "number") return String(value);
  return escapeFormula(value);
}

/** Streams the CSV (UTF-8, CRLF, header first). Throws JobNotFoundError for an unknown job before any byte. */
export async function* failedRowsCsv(store: JobStore, jobId: string, seesPersonalData = true): AsyncGenerator<Uint8Array> {
  const job = await store.get(jobId);
  const bundle = job.kind === "import" && job.parts !== undefined;
  yield Buffer.from(stringify([bundle ? ["part", ...FAILED_ROWS_COLUMNS] : [...FAILED_ROWS_COLUMNS]], { record_delimiter: "windows" }), "utf8");
  let rows: string[][] = [];
  for await (const stored of store.rowErrorsOf(jobId)) {
    const error = rowErrorForReader(stored, job.entity, seesPersonalData);
    rows.push([...(bundle ? [cell(error.part)] : []), cell(error.row), cell(error.line), cell(error.column), cell(error.value), cell(error.reason), cell(error.code)]);
    if (rows.length >= BATCH) {
      yield Buffer.from(stringify(rows, { record_delimiter: "windows" }), "utf8");
      rows = [];
    }
  }
  if (rows.length > 0) yield Buffer.from(stringify(rows, { record_delimiter: "windows" }), "utf8");
}
