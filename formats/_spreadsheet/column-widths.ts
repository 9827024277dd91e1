/**
 * Column widths for a written sheet, from what a person will see first: the
 * header and the first batch of rows (a stream cannot look further ahead).
 * Widths are in characters, as both XLSX (`<col width>`) and ODS (in cm,
 * converted by the writer) express them.
 */
import type { Column, Row } from "@data-exchange/format-sdk";

const MIN = 6;
const MAX = 60;
/** "2024-03-07 14:30:00.000" */
const TIMESTAMP = 23;

export function columnWidths(columns: Column[], headers: string[], firstRows: Row[]): number[] {
  return columns.map((c, i) => {
    let width = (headers[i] ?? "").length + 3; // room for the filter button
    if (c.type === "timestamp") width = Math.max(width, TIMESTAMP);
    for (const row of firstRows) {
      const v = row[c.key];
      if (v === undefined || v === null) continue;
      const text = v instanceof Date ? "0000-00-00 00:00:00.000" : String(v);
      const line = text.length > MAX ? MAX : (text.split("\n", 1)[0] ?? "").length;
      if (line > width) width = line;
    }
    return Math.min(MAX, Math.max(MIN, width + 1));
  });
}

/** The header a writer shows for each column: labels for people, keys for machines. */
export function headerNames(columns: Column[], useLabels: boolean): string[] {
  return columns.map((c) => (useLabels ? c.label : c.key));
}
