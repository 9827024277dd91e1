/**
 * Helpers shared by formats whose rows are JSON objects (JSON, NDJSON, and any
 * document format to come), so they agree on what a row looks like.
 */
import type { CellValue, Column, Row } from "./plugin.js";

/**
 * The object written for a row: the given columns in order, named by key (or
 * label when the audience is human), missing cells left out so they stay
 * missing on the way back, nulls kept. With no columns the row passes as is.
 */
export function projectRow(row: Row, columns: Column[], useLabels: boolean): Record<string, CellValue> {
  if (columns.length === 0) return row;
  const out: Record<string, CellValue> = {};
  for (const c of columns) {
    const v = row[c.key];
    if (v !== undefined) out[useLabels ? c.label : c.key] = v;
  }
  return out;
}

/** True for `{...}` (not arrays, not null): the only JSON value that can be a row. */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** "a number", "an array", … for error messages about a value that should have been an object. */
export function jsonKind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  return typeof v === "number" ? "a number" : typeof v === "string" ? "a string" : `a ${typeof v}`;
}

/** Checks a parsed object against the column limit; returns a reason when it is too wide. */
export function tooManyKeys(v: Record<string, unknown>, maxColumns: number): string | undefined {
  let n = 0;
  for (const _ in v) if (++n > maxColumns) return `object has more than ${maxColumns} keys`;
  return undefined;
}
