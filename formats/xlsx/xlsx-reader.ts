/**
 * XLSX bytes → rows, streaming: the upload is spooled and opened through the
 * ZIP's central directory (`_spreadsheet/zip-reader.ts` says why), the
 * workbook, styles and shared strings are read first, then the chosen
 * sheet's XML is parsed as it inflates and its rows go out in batches.
 *
 * Cell values are what the file says: numbers, booleans, text, `Date`s for
 * numbers shown as dates (1900 or 1904 date system), ISO 8601 durations
 * ("PT255H10M10S") for numbers shown as times or elapsed time. A formula
 * reads as its cached value. An error value (`#DIV/0!`) makes its row a row
 * error naming the cell. A merged range's value is in its top-left cell
 * only (the file stores it there); the other cells of the range are empty.
 */
import { decimalNumber, FormatError, parseIsoTimestamp, type ReadContext, type ReadItem } from "@data-exchange/format-sdk";
import { parseCellRef, MAX_SHEET_COLUMNS } from "../_spreadsheet/cell-ref.js";
import { SheetTable, type CellRaw, type SheetCell, type SheetRow } from "../_spreadsheet/sheet-table.js";
import { chooseSheet } from "../_spreadsheet/choose-sheet.js";
import { decodeOoxmlEscapes } from "../_spreadsheet/xml-escape.js";
import { parseXml } from "../_spreadsheet/xml-stream.js";
import { openZip } from "../_spreadsheet/zip-reader.js";
import { readCellStyles } from "./cell-styles.js";
import { daysToDuration, serialToDate, type NumberKind } from "./excel-dates.js";
import type { XlsxOptions } from "./options.js";
import { RichText, SharedStrings } from "./shared-strings.js";
import { PartNames, readWorkbookInfo } from "./workbook-info.js";

export async function* readXlsx(input: AsyncIterable<Uint8Array>, ctx: ReadContext<XlsxOptions>): AsyncGenerator<ReadItem[]> {
  const zip = await openZip(input, "an XLSX workbook");
  const maxText = textBound(ctx.limits.maxRowBytes);
  let strings: SharedStrings | undefined;
  try {
    const parts = new PartNames(zip.names());
    const info = await readWorkbookInfo(zip, parts);
    const sheet = chooseSheet(info.sheets, ctx.options.sheet);
    if (sheet.kind !== "worksheet") throw new FormatError(`sheet ${JSON.stringify(sheet.name)} is a ${sheet.kind}, not a table of cells`);
    if (sheet.part === undefined) throw new FormatError(`sheet ${JSON.stringify(sheet.name)} has no worksheet part in the file`);
    const kinds = await readCellStyles(info.styles ? zip.read(info.styles) : undefined, maxText);
    strings = await SharedStrings.load(info.sharedStrings ? zip.read(info.sharedStrings) : undefined, Math.max(maxText, 1 << 20));
    const table = new SheetTable({ sheet: sheet.name, header: ctx.options.header, headerRow: ctx.options.headerRow, columns: ctx.columns, limits: ctx.limits });
    const queue: SheetRow[] = [];
    const cells = new SheetCells(sheet.name, kinds, strings, info.date1904, maxText, queue);
    try {
      for await (const _ of parseXml(zip.read(sheet.part), cells, sheet.part, maxText)) {
        if (queue.length > 0) yield* table.drain(queue);
      }
    } catch (err) {
      // The rows parsed before the part broke are good: hand them over first.
      if (err instanceof FormatError && queue.length > 0) yield* table.drain(queue);
      throw err;
    }
    table.finish();
  } finally {
    strings?.close();
    await zip.close();
  }
}

/** A cell's text may not grow past this while it is parsed (the row limit applies to the finished row). */
function textBound(maxRowBytes: number): number {
  return Math.max(2 * maxRowBytes, 128 * 1024);
}

/**
 * A formula cell without a value: the program that wrote the file (openpyxl,
 * a report generator) left the calculation to whoever opens it, so the file
 * does not hold what the cell shows. Read as empty, the value would be lost
 * without a word.
 */
const UNCALCULATED_FORMULA: CellRaw = {
  error: "(a formula whose value the file does not hold: the program that wrote it did not calculate it; open and save the file in Excel or LibreOffice, which store the values)",
};

/** Sheet XML events → rows of typed cells, queued for the table. */
class SheetCells {
  private line = 0;
  private cells: SheetCell[] = [];
  private inRow = false;
  private col = -1;
  private type = "n";
  private style = 0;
  private inCell = false;
  private inV = false;
  private v = "";
  private hasV = false;
  /** The cell has a formula (`<f>`): one without a value was never calculated. */
  private hasF = false;
  private inIs = false;
  private readonly rich: RichText;

  constructor(
    private readonly sheet: string,
    private readonly kinds: NumberKind[],
    private readonly strings: SharedStrings,
    private readonly date1904: boolean,
    maxText: number,
    private readonly queue: SheetRow[],
  ) {
    this.rich = new RichText(maxText, sheet);
  }

  open(name: string, a: Record<string, string>, selfClosing: boolean): void {
    if (this.inIs) {
      this.rich.open(name, a, selfClosing);
      return;
    }
    switch (name) {
      case "row": {
        const r = a.r === undefined ? this.line + 1 : Number(a.r);
        if (!Number.isInteger(r) || r < 1 || r <= this.line) {
          throw new FormatError(`sheet ${JSON.stringify(this.sheet)} has a row numbered ${JSON.stringify(a.r)} after row ${this.line}`, { line: this.line + 1 });
        }
        this.line = r;
        this.cells = [];
        this.col = -1;
        this.inRow = !selfClosing;
        return;
      }
      case "c": {
        if (!this.inRow) return;
        const ref = a.r;
        let col = this.col + 1;
        if (ref !== undefined) {
          const parsed = parseCellRef(ref);
          if (parsed === undefined || parsed.row !== this.line) throw new FormatError(`sheet ${JSON.stringify(this.sheet)} has a cell ${JSON.stringify(ref)} in row ${this.line}`, { line: this.line });
          col = parsed.col;
        }
        if (col >= MAX_SHEET_COLUMNS) throw new FormatError(`sheet ${JSON.stringify(this.sheet)} has a cell past the last column`, { line: this.line });
        this.col = col;
        this.type = a.t ?? "n";
        this.style = a.s === undefined ? 0 : Number(a.s);
        this.v = "";
        this.hasV = false;
        this.hasF = false;
        this.inCell = !selfClosing;
        return;
      }
      case "f":
        if (this.inCell) this.hasF = true;
        return;
      case "v":
        if (this.inCell && !selfClosing) {
          this.inV = true;
          this.hasV = true;
        }
        return;
      case "is":
        if (this.inCell) {
          this.inIs = !selfClosing;
          this.hasV = true;
          this.rich.reset();
        }
        return;
    }
  }

  close(name: string): void {
    if (this.inIs) {
      if (name === "is") this.inIs = false;
      else this.rich.close(name);
      return;
    }
    if (name === "v") this.inV = false;
    else if (name === "c" && this.inCell) {
      this.inCell = false;
      const value = this.value();
      if (value !== undefined) this.cells.push({ col: this.col, value });
    } else if (name === "row" && this.inRow) {
      this.inRow = false;
      if (this.cells.length > 0) this.queue.push({ line: this.line, cells: this.cells, repeat: 1 });
    }
  }

  text(t: string): void {
    if (this.inV) this.v += t;
    else if (this.inIs) this.rich.text(t);
  }

  private value(): CellRaw | undefined {
    if (!this.hasV) return this.hasF ? UNCALCULATED_FORMULA : undefined;
    switch (this.type) {
      case "inlineStr":
        return this.rich.value();
      case "s": {
        const i = Number(this.v);
        const s = Number.isInteger(i) && i >= 0 ? this.strings.get(i) : undefined;
        return s ?? { error: `(a shared string ${JSON.stringify(this.v)} that the workbook does not have)` };
      }
      case "str":
        return decodeOoxmlEscapes(this.v);
      case "b": {
        const b = this.v.trim().toLowerCase();
        return b === "1" || b === "true" ? true : b === "0" || b === "false" ? false : { error: `(an unreadable boolean ${JSON.stringify(this.v)})` };
      }
      case "e":
        return { error: this.v.trim() || "#N/A" };
      case "d": {
        const d = parseIsoTimestamp(this.v);
        return d.ok ? d.value : { error: `(an unreadable date: ${d.reason})` };
      }
      case "n": {
        const text = this.v.trim();
        if (text === "") return this.hasF ? UNCALCULATED_FORMULA : undefined;
        const n = decimalNumber(text);
        if (n === undefined) return { error: `(a number that is not one: ${JSON.stringify(text)})` };
        const kind = this.kinds[this.style] ?? "number";
        if (kind === "date") return serialToDate(n, this.date1904) ?? { error: `(a date serial out of range: ${text})` };
        if (kind === "duration") return daysToDuration(n);
        return n;
      }
      default:
        return { error: `(a cell of a type XLSX does not have: t=${JSON.stringify(this.type)})` };
    }
  }
}
