/**
 * CSV: the format administrators exchange with spreadsheets. Human-facing, so
 * headers show column labels; reading accepts labels or keys.
 */
import { definePlugin } from "@data-exchange/format-sdk";
import { readCsv } from "./csv-reader.js";
import { writeCsv } from "./csv-writer.js";
import { csvOptions, type CsvOptions } from "./options.js";

export default definePlugin<CsvOptions>({
  name: "csv",
  title: "CSV (comma-separated values)",
  extensions: ["csv", "tsv", "txt"],
  mimeType: "text/csv",
  shape: "tabular",
  audience: "human",
  options: csvOptions,
  write: writeCsv,
  read: readCsv,
});
