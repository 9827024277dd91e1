/**
 * Rows → an ODS spreadsheet, streamed: `mimetype` first and stored (ODF
 * requires it, so tools can tell the file by its first bytes), then the
 * fixed parts, then `content.xml` row by row, then `settings.xml`, which
 * freezes the header rows of the sheets the rows filled.
 *
 * Cells are typed as in XLSX (float, boolean, date with a visible
 * date-time style, string); a date is written as it is, at any year ODF can
 * hold. Text: each line is a paragraph (`text:p`), runs of spaces and tabs
 * are `text:s`/`text:tab`, so what a person sees is the value. A value
 * paragraphs cannot carry exactly (a carriage return) or that LibreOffice
 * would not read back from them (it drops `text:tab` in cells, 7.4) also
 * goes in `office:string-value`, which LibreOffice and our reader prefer. XML cannot hold other control
 * characters at all: such a value fails the export naming its column
 * rather than being changed.
 */
import { FormatError, type Column, type Row, type WriteContext } from "@data-exchange/format-sdk";
import { MAX_SHEET_COLUMNS, MAX_SHEET_ROWS } from "../_spreadsheet/cell-ref.js";
import { columnWidths, headerNames } from "../_spreadsheet/column-widths.js";
import { RowCursor } from "../_spreadsheet/row-cursor.js";
import { sheetNames } from "../_spreadsheet/sheet-names.js";
import { writeParts } from "../_spreadsheet/write-parts.js";
import { writeZip, type ZipEntry } from "../_spreadsheet/zip-writer.js";
import type { SpreadsheetOptions } from "../xlsx/options.js";
import { attr, CELL_STYLE, content as contentText, contentEnd, contentStart, manifest, meta, mimetype, settings, stylesPart, tableStart, type OdsSheet } from "./ods-parts.js";

export async function* writeOds(rows: AsyncIterable<Row[]>, ctx: WriteContext<SpreadsheetOptions>): AsyncGenerator<Uint8Array> {
  for (const part of ctx.parts ?? [ctx]) {
    if (part.columns.length > MAX_SHEET_COLUMNS) {
      throw new FormatError(`an ODS sheet holds at most ${MAX_SHEET_COLUMNS} columns here; the export${ctx.parts ? ` of ${part.source?.entity}` : ""} has ${part.columns.length}`);
    }
  }
  yield* writeZip(entries(rows, ctx, ctx.options.rowsPerSheet ?? MAX_SHEET_ROWS));
}

async function* entries(rows: AsyncIterable<Row[]>, ctx: WriteContext<SpreadsheetOptions>, rowsPerSheet: number): AsyncGenerator<ZipEntry> {
  yield { name: "mimetype", data: utf8(mimetype), store: true };
  yield { name: "META-INF/manifest.xml", data: utf8(manifest) };
  yield { name: "meta.xml", data: utf8(meta) };
  yield { name: "styles.xml", data: utf8(stylesPart) };
  const sheets: OdsSheet[] = [];
  yield { name: "content.xml", data: content(rows, ctx, rowsPerSheet, sheets) };
  yield { name: "settings.xml", data: utf8(settings(sheets)) };
}

/**
 * content.xml: one table per part (or several past the row limit). The
 * column styles are declared before the first table, so the first part's
 * widths come from its header and first rows, and a bundle's later parts'
 * from their headers alone (their rows are not read yet).
 */
async function* content(rows: AsyncIterable<Row[]>, ctx: WriteContext<SpreadsheetOptions>, rowsPerSheet: number, sheets: OdsSheet[]): AsyncGenerator<Uint8Array> {
  const parts = writeParts(rows, ctx);
  try {
    const all = ctx.parts ?? [{ columns: ctx.columns, source: ctx.source ?? { entity: "" } }];
    const headers = all.map((p) => headerNames(p.columns, ctx.useLabels));
    let first = await parts.next();
    if (first.done) return;
    const firstCursor = new RowCursor(first.value.rows);
    const peeked = (await firstCursor.peek()).slice(0, 1000);
    const widths = all.map((p, i) => columnWidths(p.columns, headers[i]!, i === 0 ? peeked : []));
    const start = contentStart(widths.flat());
    yield utf8(start.xml);
    let offset = 0;
    for (let i = 0; !first.done; i++, first = await parts.next()) {
      const cursor = i === 0 ? firstCursor : new RowCursor(first.value.rows);
      const { columns, source } = first.value.part;
      const columnStyles = start.columnStyles.slice(offset, offset + columns.length);
      offset += columns.length;
      try {
        yield* tables(cursor, columns, headers[i]!, sheetNames(source.entity || undefined), columnStyles, ctx, rowsPerSheet, sheets);
      } finally {
        await cursor.close();
      }
    }
    yield utf8(contentEnd(sheets));
  } finally {
    await parts.return(undefined);
  }
}

/** One part's table(s): a header row, then its rows, a new table past the row limit. */
async function* tables(
  cursor: RowCursor,
  columns: Column[],
  headers: string[],
  names: (index: number) => string,
  columnStyles: string[],
  ctx: WriteContext<SpreadsheetOptions>,
  rowsPerSheet: number,
  sheets: OdsSheet[],
): AsyncGenerator<Uint8Array> {
  const header = ctx.options.header && columns.length > 0;
  let inPart = 0;
  do {
    const sheet: OdsSheet = { name: names(inPart++), rows: 0, columns: columns.length, header };
    sheets.push(sheet);
    let xml = tableStart(sheet.name, columnStyles);
    if (header) {
      xml += `<table:table-header-rows><table:table-row>`;
      for (const h of headers) xml += `<table:table-cell table:style-name="${CELL_STYLE.header}" office:value-type="string">${paragraphs(h, undefined)}</table:table-cell>`;
      xml += `</table:table-row></table:table-header-rows>`;
      sheet.rows = 1;
    }
    yield utf8(xml);
    for await (const batch of cursor.upTo(rowsPerSheet - sheet.rows)) {
      let out = "";
      for (const row of batch) {
        sheet.rows++;
        out += `<table:table-row>${cells(row, columns)}</table:table-row>`;
      }
      yield utf8(out);
    }
    yield utf8(`</table:table>`);
  } while (!(await cursor.exhausted()));
}

function cells(row: Row, columns: Column[]): string {
  let xml = "";
  let empty = 0;
  for (const c of columns) {
    const v = row[c.key];
    const cell = cellXml(v, c);
    if (cell === undefined) {
      empty++;
      continue;
    }
    if (empty > 0) xml += empty === 1 ? `<table:table-cell/>` : `<table:table-cell table:number-columns-repeated="${empty}"/>`;
    empty = 0;
    xml += cell;
  }
  return xml;
}

function cellXml(v: unknown, column: Column): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return undefined;
    const n = Object.is(v, -0) ? "0" : String(v);
    return `<table:table-cell office:value-type="float" office:value="${n}"><text:p>${n}</text:p></table:table-cell>`;
  }
  if (typeof v === "boolean") return `<table:table-cell office:value-type="boolean" office:boolean-value="${v}"><text:p>${v ? "TRUE" : "FALSE"}</text:p></table:table-cell>`;
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) return undefined;
    const iso = v.toISOString();
    // Years 0000–9999 are what xsd:dateTime and spreadsheets agree on; others keep their exact ISO text.
    if (iso.length !== 24) return stringCell(iso, column);
    return `<table:table-cell table:style-name="${CELL_STYLE.dateTime}" office:value-type="date" office:date-value="${dateValue(iso)}"><text:p>${iso.slice(0, 10)} ${iso.slice(11, 23)}</text:p></table:table-cell>`;
  }
  return stringCell(typeof v === "string" ? v : JSON.stringify(v), column);
}

/** xsd:dateTime without a zone (LibreOffice reads a zone-less value as is); the fraction only when there is one. */
function dateValue(iso: string): string {
  return iso.slice(20, 23) === "000" ? iso.slice(0, 19) : iso.slice(0, 23);
}

function stringCell(text: string, column: Column): string {
  const exact = /[\r\t]/.test(text) ? ` office:string-value="${escapeText(text, column, attr)}"` : "";
  return `<table:table-cell office:value-type="string"${exact}>${paragraphs(text, column)}</table:table-cell>`;
}

/** Lines as paragraphs; spaces that ODF would collapse (leading, repeated) and tabs as elements. */
function paragraphs(text: string, column: Column | undefined): string {
  let out = "";
  for (const line of text.split(/\r\n|\r|\n/)) {
    let p = escapeText(line, column, contentText);
    if (/[ \t]/.test(p)) {
      p = p.replace(/\t/g, "<text:tab/>").replace(/ +/g, (m: string, offset: number, whole: string) => {
        // A reader collapses runs of spaces and drops them at the edges; text:s says "these count".
        if (offset === 0 || offset + m.length === whole.length) return spaces(m.length);
        return m.length === 1 ? " " : ` ${spaces(m.length - 1)}`;
      });
    }
    out += p === "" ? "<text:p/>" : `<text:p>${p}</text:p>`;
  }
  return out;
}

function spaces(n: number): string {
  return n === 1 ? "<text:s/>" : `<text:s text:c="${n}"/>`;
}

function escapeText(text: string, column: Column | undefined, how: (text: string) => string): string {
  try {
    return how(text);
  } catch (err) {
    throw new FormatError(`${(err as Error).message}${column ? ` (a value of column ${JSON.stringify(column.key)})` : ""}`);
  }
}

function utf8(text: string): Uint8Array {
  return Buffer.from(text, "utf8");
}
