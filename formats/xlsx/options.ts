/**
 * XLSX options; `xlsxOptions.parse({})` gives a complete configuration.
 * Shared by the ODS plugin, whose options are the same.
 */
import { z } from "zod";
import { MAX_SHEET_ROWS } from "../_spreadsheet/cell-ref.js";

export const spreadsheetOptions = z.object({
  /** Read: the sheet to read, by name or 1-based position; default the first visible sheet. */
  sheet: z.union([z.string().min(1), z.number().int().min(1)]).optional(),
  /** Read: the first row names the columns; write: write a header row (bold, frozen, with a filter). */
  header: z.boolean().default(true),
  /** Read: the sheet row (1-based) holding the header, when rows above it are titles or notes; default the first non-empty row. */
  headerRow: z.number().int().min(1).max(MAX_SHEET_ROWS).optional(),
  /** Write: rows per sheet, header included; past it the rows go on on a sheet named "<entity> (2)". */
  rowsPerSheet: z.number().int().min(2).max(MAX_SHEET_ROWS).default(MAX_SHEET_ROWS),
});

export type SpreadsheetOptions = z.infer<typeof spreadsheetOptions>;
export type XlsxOptions = SpreadsheetOptions;
