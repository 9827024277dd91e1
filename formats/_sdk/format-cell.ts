/**
 * Turns a cell into text for text formats (CSV, HTML, plain text).
 *
 * Kept next to {@link coerceCell} because the two must agree: whatever
 * formatCell writes, coerceCell reads back to the same value (dates as ISO 8601
 * UTC with milliseconds, nested values as JSON text).
 */
import type { CellValue, Column, FieldType, Row } from "./plugin.js";

/**
 * Text for one cell; `undefined` for a missing or null cell so the writer can
 * leave it empty (and, in CSV, distinguish it from an empty string).
 * `type` is the column's declared type; formatting follows the value itself,
 * so a string in a number column is written as given rather than mangled.
 */
export function formatCell(value: CellValue, _type?: FieldType): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === "boolean") return value ? "true" : "false";
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  // Date#toJSON gives ISO strings inside nested values too.
  return JSON.stringify(value);
}

/** True for values a tabular format can hold in one cell as they are. */
export function isScalar(value: CellValue): boolean {
  return typeof value !== "object" || value === null || value instanceof Date;
}

/**
 * What the core does before handing rows to a "tabular" plugin: nested values
 * (objects, lists) become JSON text, scalars are left alone so a spreadsheet
 * writer can still emit real numbers and dates. Only the given columns are kept.
 */
export function toTabularRow(row: Row, columns: Column[]): Row {
  const out: Row = {};
  for (const c of columns) {
    const v = row[c.key];
    out[c.key] = isScalar(v) ? v : formatCell(v, c.type);
  }
  return out;
}
