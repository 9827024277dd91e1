/**
 * XLSX (Office Open XML workbook): what Excel reads and writes. Human-facing,
 * so the header shows column labels; reading accepts labels or keys.
 */
import { definePlugin } from "@data-exchange/format-sdk";
import { spreadsheetOptions, type XlsxOptions } from "./options.js";
import { readXlsx } from "./xlsx-reader.js";
import { writeXlsx } from "./xlsx-writer.js";

export default definePlugin<XlsxOptions>({
  name: "xlsx",
  title: "Excel workbook (XLSX)",
  extensions: ["xlsx"],
  mimeType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  shape: "tabular",
  audience: "human",
  options: spreadsheetOptions,
  // A bundle export of several entities is one workbook, a sheet each.
  multiPart: true,
  write: writeXlsx,
  read: readXlsx,
});
