/**
 * ODS (OpenDocument spreadsheet): what LibreOffice and other office suites
 * read and write natively. Human-facing like XLSX, with the same options.
 */
import { definePlugin } from "@data-exchange/format-sdk";
import { spreadsheetOptions, type SpreadsheetOptions } from "../xlsx/options.js";
import { readOds } from "./ods-reader.js";
import { writeOds } from "./ods-writer.js";

export default definePlugin<SpreadsheetOptions>({
  name: "ods",
  title: "OpenDocument spreadsheet (ODS)",
  extensions: ["ods"],
  mimeType: "application/vnd.oasis.opendocument.spreadsheet",
  shape: "tabular",
  audience: "human",
  options: spreadsheetOptions,
  // A bundle export of several entities is one workbook, a sheet each.
  multiPart: true,
  write: writeOds,
  read: readOds,
});
