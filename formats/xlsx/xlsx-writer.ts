/**
 * Rows → an XLSX workbook, streamed.
 *
 * Cells are typed: numbers as numbers, booleans as booleans, timestamps as
 * date serials with a visible date-time format, text as inline strings (a
 * shared-strings table would have to be held until the end: inline strings
 * let every row leave as soon as it is formatted, and Excel and LibreOffice
 * read them alike). The header row is bold, frozen and carries an
 * autofilter; columns are sized from the header and the first rows.
 *
 * A sheet holds 1,048,576 rows. Past that the rows go on on a second sheet
 * named like the first with " (2)" (then " (3)", …), each with the header
 * again, so a large export is never cut and never refused halfway.
 *
 * A bundle (`WriteContext.parts`) is one workbook with a sheet per entity,
 * named after it, each sized, headed and filtered on its own.
 *
 * A cell's text longer than Excel holds (`MAX_CELL_TEXT`) stops the export
 * with an error naming the record, the column and the cell: Excel would
 * "repair" such a file by cutting the text, and the person who opens it
 * would never learn that the rest was lost.
 */
import { type Column, FormatError, type Row, type WriteContext } from "@data-exchange/format-sdk";
import { columnLetters, MAX_SHEET_COLUMNS, MAX_SHEET_ROWS } from "../_spreadsheet/cell-ref.js";
import { columnWidths, headerNames } from "../_spreadsheet/column-widths.js";
import { RowCursor } from "../_spreadsheet/row-cursor.js";
import { sheetNames } from "../_spreadsheet/sheet-names.js";
import { escapeXml, ooxmlCharEscape, ooxmlLiteralEscape } from "../_spreadsheet/xml-escape.js";
import { writeParts } from "../_spreadsheet/write-parts.js";
import { writeZip, type ZipEntry } from "../_spreadsheet/zip-writer.js";
import { dateToSerial } from "./excel-dates.js";
import { appProps, contentTypes, packageRels, sheetEnd, sheetStart, STYLE, styles, workbook, workbookRels, type WrittenSheet } from "./xlsx-parts.js";
import type { XlsxOptions } from "./options.js";

/**
 * The most characters (UTF-16 code units, as Excel counts them) an Excel cell
 * holds: "Excel specifications and limits". LibreOffice reads longer cells,
 * Excel cuts them while it repairs the file.
 */
export const MAX_CELL_TEXT = 32_767;

export async function* writeXlsx(rows: AsyncIterable<Row[]>, ctx: WriteContext<XlsxOptions>): AsyncGenerator<Uint8Array> {
  for (const part of ctx.parts ?? [ctx]) {
    if (part.columns.length > MAX_SHEET_COLUMNS) {
      throw new FormatError(`an XLSX sheet holds at most ${MAX_SHEET_COLUMNS} columns; the export${ctx.parts ? ` of ${part.source?.entity}` : ""} has ${part.columns.length}`);
    }
  }
  yield* writeZip(entries(rows, ctx, ctx.options.rowsPerSheet ?? MAX_SHEET_ROWS));
}

/**
 * The package's parts. Each written part (an entity of a bundle, or the one
 * export) fills one sheet, or several past the row limit, named after it.
 */
async function* entries(rows: AsyncIterable<Row[]>, ctx: WriteContext<XlsxOptions>, rowsPerSheet: number): AsyncGenerator<ZipEntry> {
  yield { name: "[Content_Types].xml", data: utf8(contentTypes) };
  yield { name: "_rels/.rels", data: utf8(packageRels) };
  yield { name: "docProps/app.xml", data: utf8(appProps) };
  const sheets: WrittenSheet[] = [];
  for await (const { part, rows: partRows } of writeParts(rows, ctx)) {
    const cursor = new RowCursor(partRows);
    try {
      const partCtx = { ...ctx, columns: part.columns };
      const headers = headerNames(part.columns, ctx.useLabels);
      const widths = columnWidths(part.columns, headers, (await cursor.peek()).slice(0, 1000));
      const names = sheetNames(part.source.entity || undefined);
      let inPart = 0;
      const written = { records: 0 };
      do {
        const sheet: WrittenSheet = { name: names(inPart++), rows: 0, columns: part.columns.length, header: ctx.options.header };
        sheets.push(sheet);
        yield { name: `xl/worksheets/sheet${sheets.length}.xml`, data: sheetXml(cursor, partCtx, headers, widths, sheet, rowsPerSheet, sheets.length === 1, written) };
      } while (!(await cursor.exhausted()));
    } finally {
      await cursor.close();
    }
  }
  yield { name: "xl/workbook.xml", data: utf8(workbook(sheets)) };
  yield { name: "xl/_rels/workbook.xml.rels", data: utf8(workbookRels(sheets)) };
  yield { name: "xl/styles.xml", data: utf8(styles) };
}

async function* sheetXml(
  cursor: RowCursor,
  ctx: WriteContext<XlsxOptions>,
  headers: string[],
  widths: number[],
  sheet: WrittenSheet,
  rowsPerSheet: number,
  first: boolean,
  written: { records: number },
): AsyncGenerator<Uint8Array> {
  const columns = ctx.columns;
  const letters = columns.map((_, i) => columnLetters(i));
  const header = ctx.options.header && columns.length > 0;
  let xml = sheetStart(header ? widths : [], first, widths);
  if (header) {
    xml += `<row r="1">`;
    for (let i = 0; i < columns.length; i++) xml += `<c r="${letters[i]}1" s="${STYLE.header}" t="inlineStr"><is>${textElement(headers[i]!)}</is></c>`;
    xml += `</row>`;
    sheet.rows = 1;
  }
  yield utf8(xml);
  for await (const batch of cursor.upTo(rowsPerSheet - sheet.rows)) {
    xml = "";
    for (const row of batch) {
      const r = String(++sheet.rows);
      written.records++;
      xml += `<row r="${r}">`;
      for (let i = 0; i < columns.length; i++) {
        const v = row[columns[i]!.key];
        if (v === undefined || v === null) continue;
        const ref = letters[i] + r;
        if (typeof v === "number") {
          if (Number.isFinite(v)) xml += `<c r="${ref}"><v>${Object.is(v, -0) ? "0" : String(v)}</v></c>`;
        } else if (typeof v === "string") {
          if (v.length > MAX_CELL_TEXT) throw tooLongForExcel(v, ref, sheet, written.records, columns[i]!);
          xml += `<c r="${ref}" t="inlineStr"><is>${textElement(v)}</is></c>`;
        } else if (typeof v === "boolean") {
          xml += `<c r="${ref}" s="${STYLE.boolean}" t="b"><v>${v ? 1 : 0}</v></c>`;
        } else if (v instanceof Date) {
          if (Number.isNaN(v.getTime())) continue;
          const serial = dateToSerial(v);
          xml += serial === undefined ? `<c r="${ref}" t="inlineStr"><is>${textElement(v.toISOString())}</is></c>` : `<c r="${ref}" s="${STYLE.dateTime}"><v>${serial}</v></c>`;
        } else {
          // Tabular plugins get scalars (the core turns nested values into JSON text); anything else is written as JSON text too.
          const json = JSON.stringify(v);
          if (json.length > MAX_CELL_TEXT) throw tooLongForExcel(json, ref, sheet, written.records, columns[i]!);
          xml += `<c r="${ref}" t="inlineStr"><is>${textElement(json)}</is></c>`;
        }
      }
      xml += `</row>`;
    }
    yield utf8(xml);
  }
  yield utf8(sheetEnd(sheet));
}

/** The error for a cell's text longer than Excel holds, naming the record, its column and the cell. */
function tooLongForExcel(text: string, ref: string, sheet: WrittenSheet, record: number, column: Column): FormatError {
  return new FormatError(
    `a text of ${text.length} characters in cell ${ref} of sheet ${JSON.stringify(sheet.name)} is longer than the ${MAX_CELL_TEXT} an Excel cell holds (Excel cuts it when it opens the file); export as ODS, CSV or JSON to keep it whole`,
    { row: record, column: column.key },
  );
}

/** `<t>` with the text escaped; leading or trailing whitespace is kept only with xml:space="preserve". */
function textElement(text: string): string {
  const escaped = escapeXml(text, ooxmlCharEscape, ooxmlLiteralEscape);
  const c0 = text.charCodeAt(0);
  const cn = text.charCodeAt(text.length - 1);
  const edgeSpace = c0 <= 32 || cn <= 32 || c0 === 0xa0 || cn === 0xa0;
  return edgeSpace && text.length > 0 ? `<t xml:space="preserve">${escaped}</t>` : `<t>${escaped}</t>`;
}

function utf8(text: string): Uint8Array {
  return Buffer.from(text, "utf8");
}
