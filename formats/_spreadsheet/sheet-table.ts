/**
 * Rows of a sheet → numbered records keyed by column key: the rules every
 * spreadsheet reader shares (XLSX and ODS today; a workbook reader that
 * imports one entity per sheet can run one of these per sheet).
 *
 * - The header is the first non-empty row, or the row the `headerRow`
 *   option names; rows above it are ignored (titles, notes). Header cells
 *   name columns by key or label, case and surrounding spaces ignored, as the
 *   CSV reader does; trailing empty header cells do not make columns.
 * - Empty rows are skipped (a sheet's used range often ends in them, and
 *   a blank line between blocks is layout, not a record); `row` counts data
 *   records, `line` is the sheet's row number as the user sees it.
 * - A cell that holds an error (`#DIV/0!`), lies outside the header's
 *   columns, or makes the row too large turns its row into a row error that
 *   names the cell as `Sheet!C7`; the next row still imports.
 */
import { FormatError, type Column, type ReadItem, type ReadLimits } from "@data-exchange/format-sdk";
import { cellName, MAX_SHEET_ROWS } from "./cell-ref.js";

/** A cell's raw value: what the file says, typed as the file types it (the core coerces to the column's type). */
export type CellRaw = string | number | boolean | Date | { error: string };

/** One non-empty cell of a row. */
export interface SheetCell {
  /** 0-based column. */
  col: number;
  value: CellRaw;
}

/** One row as a reader found it: `repeat` identical rows starting at `line` (ODS repeats rows). */
export interface SheetRow {
  line: number;
  cells: SheetCell[];
  repeat: number;
}

export interface SheetTableOptions {
  sheet: string;
  header: boolean;
  /** 1-based sheet row of the header; absent: the first non-empty row. */
  headerRow?: number;
  columns?: Column[];
  limits: ReadLimits;
}

/** Rows handed over at once; repeated rows are expanded in batches of this size. */
export const BATCH_ROWS = 1000;

export class SheetTable {
  private keys: string[] | undefined;
  private headerPending: boolean;
  /** Whether the header item went out: exactly one, before any row (the SDK's ReadHeader). */
  private headerSent = false;
  private record = 0;

  constructor(private readonly o: SheetTableOptions) {
    this.headerPending = o.header;
    if (!o.header) this.keys = o.columns?.map((c) => c.key);
  }

  /**
   * Turns queued rows into batches of items, expanding repeats. Takes the
   * rows out of `queue`.
   */
  *drain(queue: SheetRow[]): Generator<ReadItem[]> {
    let batch: ReadItem[] = [];
    for (const r of queue) {
      if (r.cells.length === 0) continue;
      if (r.line + r.repeat - 1 > MAX_SHEET_ROWS) {
        if (batch.length > 0) yield batch; // the rows before it are good: hand them over first
        queue.length = 0;
        throw new FormatError(`sheet ${JSON.stringify(this.o.sheet)} has content beyond row ${MAX_SHEET_ROWS}, the largest sheet a spreadsheet can hold`, { line: r.line });
      }
      for (let k = 0; k < r.repeat; k++) {
        this.add(r.cells, r.line + k, batch);
        if (batch.length >= BATCH_ROWS) {
          yield batch;
          batch = [];
        }
      }
    }
    queue.length = 0;
    if (batch.length > 0) yield batch;
  }

  /**
   * Called at the end: a header row that never came is an error when one was
   * named; a sheet without a single row has no header row at all, which is
   * refused rather than read as zero rows (as every tabular reader does).
   */
  finish(): void {
    if (this.headerPending && this.o.headerRow !== undefined && this.o.header) {
      throw new FormatError(`header row ${this.o.headerRow} of sheet ${JSON.stringify(this.o.sheet)} is empty`, { line: this.o.headerRow });
    }
    if (!this.headerSent) {
      throw new FormatError(`sheet ${JSON.stringify(this.o.sheet)} is empty: it has no header row${this.o.header ? "" : " and no rows"}`, { line: 1 });
    }
  }

  private add(cells: SheetCell[], line: number, out: ReadItem[]): void {
    if (this.headerPending) {
      const wanted = this.o.headerRow;
      if (wanted !== undefined && line < wanted) return;
      if (wanted !== undefined && line > wanted) {
        throw new FormatError(`header row ${wanted} of sheet ${JSON.stringify(this.o.sheet)} is empty`, { line: wanted });
      }
      this.headerPending = false;
      this.keys = this.headerKeys(cells, line);
      this.sendHeader(out, line);
      return;
    }
    if (!this.headerSent) {
      // Without a header row the first row fixes the names: the given columns' keys, else column_1, column_2, …
      if (this.keys === undefined) {
        let width = 0;
        for (const c of cells) width = Math.max(width, Math.min(c.col + 1, this.o.limits.maxColumns));
        this.keys = Array.from({ length: width }, (_, i) => `column_${i + 1}`);
      }
      this.sendHeader(out);
    }
    const row = ++this.record;
    const keys = (this.keys ??= []);
    const values: Record<string, unknown> = {};
    let size = 0;
    const { maxColumns, maxRowBytes } = this.o.limits;
    // A cell's name ("Sheet1!C7") is made only for an error: made for every cell, it cost ~10 % of a read.
    const sheet = this.o.sheet;
    for (const { col, value } of cells) {
      if (col >= maxColumns) {
        out.push(rowError(row, line, cellName(sheet, col, line), `row has a value in column ${col + 1}, more than the limit of ${maxColumns} columns`));
        return;
      }
      let key = keys[col];
      if (key === undefined) {
        if (this.o.header || this.o.columns !== undefined) {
          const where = cellName(sheet, col, line);
          out.push(rowError(row, line, where, `cell ${where} has a value but its column has no header`));
          return;
        }
        // No header and no columns: positions name the columns, as CSV's column_1, column_2, …
        for (let i = keys.length; i <= col; i++) keys.push(`column_${i + 1}`);
        key = keys[col]!;
      }
      if (typeof value === "object" && !(value instanceof Date)) {
        const where = cellName(sheet, col, line);
        out.push({ kind: "error", error: { row, line, column: key, cell: where, reason: `cell ${where} holds the error ${value.error}` } });
        return;
      }
      size += typeof value === "string" ? value.length : 8;
      if (size > maxRowBytes) {
        const where = cellName(sheet, col, line);
        out.push(rowError(row, line, where, `row is larger than the limit of ${maxRowBytes} bytes (at cell ${where})`));
        return;
      }
      values[key] = value;
    }
    out.push({ kind: "row", row: { row, line, values } });
  }

  private sendHeader(out: ReadItem[], line?: number): void {
    this.headerSent = true;
    out.push({ kind: "header", header: line === undefined ? { names: [...(this.keys ?? [])] } : { names: [...(this.keys ?? [])], line } });
  }

  private headerKeys(cells: SheetCell[], line: number): string[] {
    const byName = new Map<string, string>();
    for (const c of this.o.columns ?? []) byName.set(c.label.trim().toLowerCase(), c.key);
    for (const c of this.o.columns ?? []) byName.set(c.key.trim().toLowerCase(), c.key); // keys win over labels
    let width = 0;
    for (const c of cells) width = Math.max(width, c.col + 1);
    if (width > this.o.limits.maxColumns) {
      throw new FormatError(`the header row has ${width} columns, more than the limit of ${this.o.limits.maxColumns}`, { line });
    }
    const keys: string[] = Array.from({ length: width }, (_, i) => `column_${i + 1}`);
    for (const { col, value } of cells) {
      if (typeof value === "object" && !(value instanceof Date)) {
        throw new FormatError(`header cell ${cellName(this.o.sheet, col, line)} holds the error ${value.error}`, { line });
      }
      const name = (value instanceof Date ? value.toISOString() : String(value)).trim();
      if (name !== "") keys[col] = byName.get(name.toLowerCase()) ?? name;
    }
    const seen = new Set<string>();
    for (const [col, k] of keys.entries()) {
      if (seen.has(k)) throw new FormatError(`the header names column ${JSON.stringify(k)} twice (cell ${cellName(this.o.sheet, col, line)})`, { line, column: k });
      seen.add(k);
    }
    return keys;
  }
}

function rowError(row: number, line: number, cell: string, reason: string): ReadItem {
  return { kind: "error", error: { row, line, cell, reason } };
}
