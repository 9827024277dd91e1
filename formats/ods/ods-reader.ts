/**
 * ODS bytes → rows, streaming: `content.xml` holds every sheet (`table:table`)
 * one after another; the chosen one is parsed as it inflates (the archive is
 * spooled first, as for XLSX: `_spreadsheet/zip-reader.ts`).
 *
 * ODS compresses runs: `table:number-columns-repeated` and
 * `table:number-rows-repeated` say "N more like this". Empty runs are only
 * counted, never expanded (LibreOffice ends every sheet with a million empty
 * rows of a thousand empty cells); runs with content are expanded in batches
 * (`SheetTable.drain`), a row's cells only up to the column limit, so a
 * repeated-cells bomb allocates nothing.
 *
 * Values follow `office:value-type`: float, percentage and currency as
 * numbers (the currency code is not kept), date as a `Date` (no zone in the
 * file: read as UTC), time as its ISO 8601 duration ("PT10H10M10S"), boolean,
 * string. A cell's text is its paragraphs (`text:p`) joined by a line feed,
 * with `text:s`, `text:tab` and `text:line-break` expanded; comments
 * (`office:annotation`) are not part of it. A formula reads as its cached
 * value; an error value (`calcext:value-type="error"`) makes its row a row
 * error naming the cell. Covered cells of a merged range are read as the
 * file stores them (usually empty; a merge in LibreOffice keeps what the
 * covered cells held, and so does this reader, as calamine does).
 */
import { decimalNumber, FormatError, parseIsoTimestamp, type ReadContext, type ReadItem } from "@data-exchange/format-sdk";
import { refuseContinuations } from "../_spreadsheet/choose-sheet.js";
import { SheetTable, type CellRaw, type SheetCell, type SheetRow } from "../_spreadsheet/sheet-table.js";
import { parseXml } from "../_spreadsheet/xml-stream.js";
import { openZip, type ZipArchive } from "../_spreadsheet/zip-reader.js";
import type { SpreadsheetOptions } from "../xlsx/options.js";

export const ODS_MIME = "application/vnd.oasis.opendocument.spreadsheet";

export async function* readOds(input: AsyncIterable<Uint8Array>, ctx: ReadContext<SpreadsheetOptions>): AsyncGenerator<ReadItem[]> {
  const zip = await openZip(input, "an ODS spreadsheet");
  try {
    await checkMimetype(zip);
    const wanted = ctx.options.sheet;
    const seen: string[] = [];
    const note = (name: string, index: number) => {
      if (seen.length === index) seen.push(name);
    };
    let read: boolean;
    if (wanted === undefined) {
      // Left to choose, the reader also looks at the sheets after the chosen one: rows that go on on "<sheet> (2)" are
      // refused, not half read. content.xml holds the sheets in order, so the refusal comes after the first sheet's rows:
      // a strict import writes none of them, a lenient one ends failed, naming the sheets it did not read.
      read = yield* readContent(
        zip,
        ctx,
        (name, index, hidden) => (note(name, index), !hidden),
        (first, later) => refuseContinuations(first, [later]),
      );
      // Every sheet hidden: the first, as an application shows it once unhidden.
      if (!read && seen.length > 0) read = yield* readContent(zip, ctx, (_n, index) => index === 0);
    } else if (typeof wanted === "number") {
      read = yield* readContent(zip, ctx, (name, index) => (note(name, index), index + 1 === wanted));
    } else {
      read = yield* readContent(zip, ctx, (name, index) => (note(name, index), name.toLowerCase() === wanted.toLowerCase()));
      // A sheet named "2" wins; without one, "2" is the second sheet.
      if (!read && /^\d+$/.test(wanted)) read = yield* readContent(zip, ctx, (_n, index) => index + 1 === Number(wanted));
    }
    if (!read) {
      const list = seen.map((n) => JSON.stringify(n)).join(", ") || "none";
      if (wanted === undefined) throw new FormatError(`the spreadsheet has no sheet to read (sheets: ${list})`);
      throw new FormatError(`the spreadsheet has no sheet ${typeof wanted === "number" ? wanted : `named ${JSON.stringify(wanted)}`} (sheets: ${list})`);
    }
  } finally {
    await zip.close();
  }
}

async function checkMimetype(zip: ZipArchive): Promise<void> {
  if (!zip.has("mimetype")) {
    if (!zip.has("content.xml")) throw new FormatError("not an ODS spreadsheet: the file has neither a mimetype nor a content.xml");
    return;
  }
  let text = "";
  for await (const chunk of zip.read("mimetype")) {
    text += chunk.toString("latin1");
    if (text.length > 200) break;
  }
  if (text.trim() !== ODS_MIME) throw new FormatError(`not an ODS spreadsheet: the file says it is ${JSON.stringify(text.trim().slice(0, 100))}`);
}

/**
 * Streams content.xml, reading the first table `pick` accepts; returns
 * whether one was read. `pick` sees every table before the chosen one.
 */
async function* readContent(
  zip: ZipArchive,
  ctx: ReadContext<SpreadsheetOptions>,
  pick: (name: string, index: number, hidden: boolean) => boolean,
  later?: (chosen: string, name: string) => void,
): AsyncGenerator<ReadItem[], boolean> {
  if (!zip.has("content.xml")) throw new FormatError("not an ODS spreadsheet: the file has no content.xml");
  const maxText = Math.max(2 * ctx.limits.maxRowBytes, 128 * 1024);
  const queue: SheetRow[] = [];
  const content = new ContentCells(ctx.limits.maxColumns, queue, pick, later);
  let table: SheetTable | undefined;
  // The chosen sheet's table, once content.xml has reached it.
  const chosen = () =>
    content.chosen === undefined
      ? undefined
      : (table ??= new SheetTable({ sheet: content.chosen, header: ctx.options.header, headerRow: ctx.options.headerRow, columns: ctx.columns, limits: ctx.limits }));
  try {
    for await (const _ of parseXml(zip.read("content.xml"), content, "content.xml", maxText)) {
      const t = chosen();
      if (t !== undefined && queue.length > 0) yield* t.drain(queue);
      if (content.done) break;
    }
  } catch (err) {
    // The rows parsed before the file broke are good: hand them over first.
    const t = chosen();
    if (err instanceof FormatError && t !== undefined && queue.length > 0) yield* t.drain(queue);
    throw err;
  }
  table?.finish();
  return table !== undefined;
}

/** content.xml events → the hidden table styles, the chosen table's rows. */
class ContentCells {
  chosen: string | undefined;
  done = false;
  private readonly hiddenStyles = new Set<string>();
  private styleName: string | undefined;
  private tableIndex = -1;
  private tableDepth = 0;
  private reading = false;
  private line = 1;
  private rowRepeat = 1;
  private cells: SheetCell[] = [];
  private col = 0;
  private inRow = false;
  // the cell being read
  private inCell = false;
  private cellRepeat = 1;
  private cellValue: CellRaw | undefined;
  private textual = false;
  private content = "";
  private paragraphs = 0;
  private inParagraph = 0;
  private annotation = 0;

  constructor(
    private readonly maxColumns: number,
    private readonly queue: SheetRow[],
    private readonly pick: (name: string, index: number, hidden: boolean) => boolean,
    /** Told of every sheet after the chosen one (content.xml is then parsed to its end); absent, parsing stops with the chosen sheet. */
    private readonly later?: (chosen: string, name: string) => void,
  ) {}

  open(name: string, a: Record<string, string>, selfClosing: boolean): void {
    if (this.tableDepth === 0) {
      if (name === "style") this.styleName = a["style:name"];
      else if (name === "table-properties" && a["table:display"] === "false" && this.styleName) this.hiddenStyles.add(this.styleName);
      else if (name === "table") {
        this.tableIndex++;
        const sheet = a["table:name"] ?? `Sheet${this.tableIndex + 1}`;
        const hidden = this.hiddenStyles.has(a["table:style-name"] ?? "");
        if (this.chosen === undefined && this.pick(sheet, this.tableIndex, hidden)) {
          this.chosen = sheet;
          this.reading = true;
        } else if (this.chosen !== undefined) this.later?.(this.chosen, sheet);
        if (!selfClosing) this.tableDepth = 1;
      }
      return;
    }
    if (!selfClosing && name === "table") this.tableDepth++;
    if (!this.reading || this.tableDepth !== 1) return;
    if (this.inCell) {
      this.openInCell(name, a, selfClosing);
      return;
    }
    if (name === "table-row") {
      this.rowRepeat = repeatOf(a["table:number-rows-repeated"]);
      this.cells = [];
      this.col = 0;
      this.inRow = !selfClosing;
      if (selfClosing) this.line += this.rowRepeat;
    } else if (this.inRow && (name === "table-cell" || name === "covered-table-cell")) {
      this.cellRepeat = repeatOf(a["table:number-columns-repeated"]);
      this.errorCell = a["calcext:value-type"] === "error";
      this.uncalculated = a["table:formula"] !== undefined && a["office:value-type"] === undefined;
      this.cellValue = this.errorCell ? undefined : cellValueOf(a);
      this.textual = this.errorCell || (this.cellValue === undefined && (a["office:value-type"] === "string" || a["office:value-type"] === undefined));
      this.content = "";
      this.paragraphs = 0;
      if (selfClosing) this.endCell();
      else this.inCell = true;
    }
  }

  private errorCell = false;
  /** A formula without a value type: calculated by no one (see endCell). */
  private uncalculated = false;

  private openInCell(name: string, a: Record<string, string>, selfClosing: boolean): void {
    if (name === "annotation") {
      if (!selfClosing) this.annotation++;
      return;
    }
    if (this.annotation > 0 || !this.textual) return;
    if (name === "p" || name === "h") {
      if (this.paragraphs++ > 0) this.content += "\n";
      if (!selfClosing) this.inParagraph++;
    } else if (this.inParagraph > 0) {
      if (name === "s") this.content += " ".repeat(Math.min(repeatOf(a["text:c"]), 1 << 16));
      else if (name === "tab") this.content += "\t";
      else if (name === "line-break") this.content += "\n";
    }
  }

  close(name: string): void {
    if (this.tableDepth === 0) return;
    if (name === "table") {
      this.tableDepth--;
      if (this.tableDepth === 0 && this.reading) {
        this.reading = false;
        this.done = this.later === undefined;
      }
      return;
    }
    if (!this.reading || this.tableDepth !== 1) return;
    if (this.inCell) {
      if (name === "annotation") this.annotation = Math.max(0, this.annotation - 1);
      else if ((name === "p" || name === "h") && this.annotation === 0 && this.textual) this.inParagraph = Math.max(0, this.inParagraph - 1);
      else if (name === "table-cell" || name === "covered-table-cell") {
        this.inCell = false;
        this.endCell();
      }
      return;
    }
    if (name === "table-row" && this.inRow) {
      this.inRow = false;
      if (this.cells.length > 0) this.queue.push({ line: this.line, cells: this.cells, repeat: this.rowRepeat });
      this.line += this.rowRepeat;
    }
  }

  text(t: string): void {
    if (this.inCell && this.inParagraph > 0 && this.annotation === 0 && this.textual) {
      // ODF: runs of white space in a paragraph are one space (spaces that count are written as text:s).
      this.content += t.replace(/[ \t\r\n]+/g, " ");
    }
  }

  private endCell(): void {
    let value = this.cellValue;
    if (this.errorCell) value = { error: this.content.trim() || "#ERR" };
    else if (value === undefined && this.textual && this.paragraphs > 0) value = this.content;
    // A formula the program that wrote the file never calculated (LibreOffice always stores the value):
    // read as empty, what the cell shows would be lost without a word.
    else if (value === undefined && this.uncalculated) value = UNCALCULATED_FORMULA;
    if (value !== undefined) {
      // Copies past the column limit would only be refused: one more than the limit is enough to say so.
      const copies = Math.min(this.cellRepeat, Math.max(1, this.maxColumns + 1 - this.col));
      for (let k = 0; k < copies; k++) this.cells.push({ col: this.col + k, value });
    }
    this.col += this.cellRepeat;
  }
}

/**
 * A repeat count. Only counted, never allocated (see the class): kept as it
 * is so that lines and columns after a long empty run are where the file
 * says, up to a bound that keeps the arithmetic exact.
 */
function repeatOf(text: string | undefined): number {
  if (text === undefined) return 1;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new FormatError(`content.xml has a repeat count ${JSON.stringify(text)} that is not a positive number`);
  return Math.min(n, MAX_REPEAT);
}

const MAX_REPEAT = 1_000_000_000;

const UNCALCULATED_FORMULA: CellRaw = {
  error: "(a formula whose value the file does not hold: the program that wrote it did not calculate it; open and save the file in LibreOffice or Excel, which store the values)",
};

/** The typed value a cell's attributes give, undefined for text (read from its paragraphs) and empty cells. */
function cellValueOf(a: Record<string, string>): CellRaw | undefined {
  const type = a["office:value-type"];
  switch (type) {
    case undefined:
      return undefined;
    case "float":
    case "percentage":
    case "currency": {
      const n = decimalNumber(a["office:value"] ?? "");
      return n ?? { error: `(an unreadable number ${JSON.stringify(a["office:value"] ?? "")})` };
    }
    case "date": {
      const d = parseIsoTimestamp(a["office:date-value"] ?? "");
      return d.ok ? d.value : { error: `(an unreadable date: ${d.reason})` };
    }
    case "time":
      return a["office:time-value"] ?? { error: "(a time without a value)" };
    case "boolean": {
      const v = a["office:boolean-value"];
      return v === "true" || v === "1" ? true : v === "false" || v === "0" ? false : { error: `(an unreadable boolean ${JSON.stringify(v ?? "")})` };
    }
    case "string":
      return a["office:string-value"];
    default:
      return { error: `(a cell of a value type ODF does not have: ${JSON.stringify(type)})` };
  }
}
