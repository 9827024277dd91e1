/**
 * Streaming CSV rows for the OULAD tables, and the tally every reader keeps.
 *
 * The OULAD files come in two dialects (every field double-quoted with CRLF,
 * or unquoted with LF; see SOURCE.txt); csv-parse reads both. Rows are read
 * one at a time from a file stream, so even the full 10.6M-row studentVle.csv
 * goes through in flat memory. A row that cannot be mapped is never dropped
 * silently: the reader counts it in its tally with the line and the reason.
 */
import { createReadStream } from "node:fs";
import { parse } from "csv-parse";

/** One data row of a CSV file, by column name, with its line number. */
export interface CsvRow {
  /** 1-based line number in the file (the header is line 1). */
  line: number;
  values: Record<string, string>;
}

/** Reads a CSV file with a header row, one row at a time. */
export async function* readCsv(path: string): AsyncGenerator<CsvRow> {
  const parser = createReadStream(path).pipe(parse({ columns: true, bom: true, info: true, skip_empty_lines: true, relax_column_count: true, trim: false }));
  try {
    for await (const item of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      yield { line: item.info.lines, values: item.record };
    }
  } finally {
    // An early break (or a failed load) closes the file.
    parser.destroy();
  }
}

/** The first rejected rows kept in a tally; the rest are only counted. */
export const MAX_KEPT_REJECTIONS = 20;

export interface Rejection {
  file: string;
  line: number;
  reason: string;
}

/**
 * What one reader did with its input: rows read, records produced, rows it
 * could not map (counted, with the first few kept), and counts of the
 * assumptions it had to make (for example a missing registration date).
 */
export class MappingTally {
  rows = 0;
  records = 0;
  rejected = 0;
  readonly rejections: Rejection[] = [];
  readonly assumptions = new Map<string, number>();

  constructor(readonly entity: string) {}

  reject(file: string, line: number, reason: string): void {
    this.rejected++;
    if (this.rejections.length < MAX_KEPT_REJECTIONS) this.rejections.push({ file, line, reason });
  }

  assume(what: string): void {
    this.assumptions.set(what, (this.assumptions.get(what) ?? 0) + 1);
  }
}

/** A required, non-empty field; OULAD writes missing values as "". */
export function field(row: CsvRow, name: string): string | undefined {
  const value = row.values[name];
  return value === undefined || value === "" ? undefined : value;
}

/** An integer field, or undefined when it is missing or not an integer. */
export function intField(row: CsvRow, name: string): number | undefined {
  const value = field(row, name);
  if (value === undefined || !/^-?\d+$/.test(value.trim())) return undefined;
  return Number(value);
}
