/**
 * Our XLSX and ODS readers against the calamine project's test workbooks
 * (../shared/data/spreadsheets-calamine, expected cells in its EXPECTED.md):
 * files written by Excel, LibreOffice and other tools, not by us, each with
 * the quirk it was made for. Every file there, each expectation a test.
 * Rows are read without a header (keys column_1, column_2, …) unless a test
 * is about headers; `line` is the sheet's row number.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readAll, DATA_DIR, type ReadResult } from "./support.js";
import xlsx from "../../formats/xlsx/index.js";
import ods from "../../formats/ods/index.js";

const dir = new URL("spreadsheets-calamine/", DATA_DIR);

async function read(file: string, options: Record<string, unknown> = {}): Promise<ReadResult> {
  const plugin = file.endsWith(".ods") ? ods : xlsx;
  return readAll(plugin, readFileSync(new URL(file, dir)), { options: { header: false, ...options }, chunkSize: 997 });
}

/** Each row's cells in column order (gaps as undefined), for comparing with EXPECTED.md's lists. */
function grid(result: ReadResult): unknown[][] {
  expect(result.fatal).toBeUndefined();
  return result.rows.map(({ values }) => {
    const cells: unknown[] = [];
    for (const [k, v] of Object.entries(values)) cells[Number(k.slice("column_".length)) - 1] = v;
    return cells;
  });
}

const lines = (result: ReadResult) => result.rows.map((r) => r.line);
const utc = (iso: string) => new Date(iso);

describe("XLSX files from other tools", () => {
  it("temperature.xlsx: text and decimal numbers, and the first record through a header", async () => {
    expect(grid(await read("temperature.xlsx"))).toEqual([
      ["label", "value"],
      ["celsius", 22.2222],
      ["fahrenheit", 72],
    ]);
    const withHeader = await read("temperature.xlsx", { header: true });
    expect(withHeader.rows[0]!.values).toEqual({ label: "celsius", value: 22.2222 });
  });

  it("issues.xlsx: sheets chosen by name, shared strings, numbers and booleans", async () => {
    expect(grid(await read("issues.xlsx", { sheet: "issue2" }))).toEqual([
      [1, "a"],
      [2, "b"],
      [3, "c"],
    ]);
    expect(grid(await read("issues.xlsx", { sheet: "issue5" }))).toEqual([[0.5]]);
    expect(grid(await read("issues.xlsx", { sheet: "issue6" }))).toEqual([[1], [2], ["ab"], [false]]);
  });

  it("issues.xlsx: special characters and entities in shared strings", async () => {
    expect(grid(await read("issues.xlsx", { sheet: "spc_chrs" })).map((r) => r[0])).toEqual(["&", "<", ">", "aaa ' aaa", '"', "☺", "֍", "àâéêèçöïî«»"]);
  });

  it("errors.xlsx: every error value is a row error naming its cell, with row and line numbers", async () => {
    const result = await read("errors.xlsx");
    expect(result.rows).toEqual([]);
    const codes = ["#DIV/0!", "#NAME?", "#VALUE!", "#NULL!", "#REF!", "#NUM!", "#N/A"];
    expect(result.errors).toEqual(codes.map((code, i) => ({ row: i + 1, line: i + 1, column: "column_1", cell: `Feuil1!A${i + 1}`, reason: `cell Feuil1!A${i + 1} holds the error ${code}` })));
  });

  it("date.xlsx: date serials of the 1900 system as dates, an elapsed-time format as a duration", async () => {
    expect(grid(await read("date.xlsx"))).toEqual([
      [utc("2021-01-01T00:00:00Z"), 15],
      [utc("2021-01-02T00:00:00Z"), 16],
      ["PT255H10M10S", 17],
    ]);
  });

  it("date_1904.xlsx: the same dates from a workbook in the 1904 date system", async () => {
    expect(grid(await read("date_1904.xlsx"))).toEqual([
      [utc("2021-01-01T00:00:00Z"), 15],
      [utc("2021-01-02T00:00:00Z"), 16],
      ["PT255H10M10S", 17],
    ]);
  });

  it("any_sheets.xlsx: the first visible sheet by default, hidden and very hidden ones by name or position, a chart sheet refused", async () => {
    const visible = grid(await read("any_sheets.xlsx"));
    expect(visible[0]).toEqual([1, 2]);
    expect(grid(await read("any_sheets.xlsx", { sheet: "Visible" }))).toEqual(visible);
    for (const [sheet, name] of [
      ["Hidden", "Hidden"],
      [2, "Hidden"],
      ["veryhidden", "VeryHidden"],
      ["3", "VeryHidden"],
    ] as const) {
      // Each is chosen (and, being empty, refused as having no header row, naming it).
      const result = await read("any_sheets.xlsx", { sheet });
      expect(result.fatal?.message, `${sheet} → ${name}`).toBe(`sheet "${name}" is empty: it has no header row and no rows (at line 1)`);
    }
    expect((await read("any_sheets.xlsx", { sheet: "Chart" })).fatal?.message).toBe('sheet "Chart" is a chartsheet, not a table of cells');
    expect((await read("any_sheets.xlsx", { sheet: "Nope" })).fatal?.message).toBe('the workbook has no sheet named "Nope" (sheets: "Visible", "Hidden", "VeryHidden", "Chart")');
    expect((await read("any_sheets.xlsx", { sheet: 9 })).fatal?.message).toMatch(/^the workbook has no sheet 9: it has 4/);
  });

  it("header-row.xlsx: by default the first non-empty row is the header; headerRow names the real one below notes", async () => {
    // Row 3's lone "Note 1" becomes the header: the table below has a fourth column no header names.
    const byDefault = await read("header-row.xlsx", { header: true });
    expect(byDefault.rows).toEqual([]);
    expect(byDefault.errors.map((e) => [e.row, e.line, e.cell, e.reason])).toEqual([
      [1, 9, "Sheet1!D9", "cell Sheet1!D9 has a value but its column has no header"],
      [2, 10, "Sheet1!D10", "cell Sheet1!D10 has a value but its column has no header"],
    ]);
    const named = await read("header-row.xlsx", { header: true, headerRow: 9 });
    expect(named.rows).toEqual([{ row: 1, line: 10, values: { Columns: "put data here", "Column A": 1, "Column B": 2, "Column C": 3 } }]);
    expect((await read("header-row.xlsx", { header: true, headerRow: 4 })).fatal?.message).toBe('header row 4 of sheet "Sheet1" is empty (at line 4)');
  });

  it("empty_sheet.xlsx: every sheet is empty, refused as having no header row rather than read as zero rows", async () => {
    for (const sheet of [1, 2, 3]) {
      const result = await read("empty_sheet.xlsx", { sheet });
      if (result.fatal?.message.startsWith("the workbook has no sheet")) break;
      expect(result.rows).toEqual([]);
      expect(result.errors).toEqual([]);
      expect(result.fatal?.message).toMatch(/^sheet ".*" is empty: it has no header row/);
    }
    const withHeader = await read("empty_sheet.xlsx", { header: true });
    expect(withHeader.rows).toEqual([]);
    expect(withHeader.fatal?.message).toMatch(/^sheet ".*" is empty: it has no header row \(at line 1\)$/);
  });

  it("encoded_entities.xlsx: an entity is text, and whitespace without xml:space=preserve is not", async () => {
    expect(grid(await read("encoded_entities.xlsx"))).toEqual([["&"], [""]]);
  });

  it("has_x000D_.xlsx: Excel's _x000D_ escape is a carriage return", async () => {
    expect(grid(await read("has_x000D_.xlsx"))).toEqual([["ABC\r\nDEF"]]);
  });

  it("merge_cells.xlsx: a merged range's value is in its top-left cell only", async () => {
    expect(grid(await read("merge_cells.xlsx"))).toEqual([
      ["Row Merge", undefined, "Not Merged"],
      ["Column Merge", "Chunk Merged"],
    ]);
  });

  it("inlineStr_cdata.xlsx: inline strings, in CDATA sections or not, stay text", async () => {
    expect(grid(await read("inlineStr_cdata.xlsx"))).toEqual([
      ["Hello CDATA", "World"],
      ["12345", "NormalText"],
    ]);
  });
});

describe("ODS files from other tools", () => {
  it("issues.ods: float, text, boolean and date value types", async () => {
    expect(grid(await read("issues.ods", { sheet: "datatypes" }))).toEqual([[1], [1.5], ["ab"], [false], ["test"], [utc("2016-10-20T00:00:00Z")]]);
  });

  it("issues.ods: the sheets issue2, issue5 and spc_chrs read as in the XLSX", async () => {
    expect(grid(await read("issues.ods", { sheet: "issue2" }))).toEqual([
      [1, "a"],
      [2, "b"],
      [3, "c"],
    ]);
    expect(grid(await read("issues.ods", { sheet: "issue5" }))).toEqual([[0.5]]);
    expect(grid(await read("issues.ods", { sheet: "spc_chrs" })).map((r) => r[0])).toEqual(["&", "<", ">", "aaa ' aaa", '"', "☺", "֍", "àâéêèçöïî«»"]);
  });

  it("issues.ods: a formula cell (of:=[.B1]+$$OneRange) reads as its cached value, not its formula", async () => {
    const rows = (await read("issues.ods", { sheet: "Sheet1" })).rows;
    expect(rows).toEqual([{ row: 1, line: 2, values: { column_1: 0 } }]);
  });

  it("date.ods: dates and date-times as dates, times as ISO 8601 durations", async () => {
    expect(grid(await read("date.ods"))).toEqual([
      [utc("2021-01-01T00:00:00Z"), 15],
      [utc("2021-01-01T10:10:10Z"), 16],
      ["PT10H10M10S", 17],
      ["PT10H10M10.123456S", 18],
    ]);
  });

  it("any_sheets.ods: the first visible sheet by default; hidden ones by name", async () => {
    expect(grid(await read("any_sheets.ods"))[0]).toEqual([1, 2]);
    // Each is chosen (and, being empty, refused as having no header row, naming it).
    for (const [sheet, name] of [
      ["Hidden", "Hidden"],
      ["VeryHidden", "VeryHidden"],
      ["Chart", "Chart"],
      [2, "Hidden"],
    ] as const) {
      expect((await read("any_sheets.ods", { sheet })).fatal?.message, `${sheet}`).toBe(`sheet "${name}" is empty: it has no header row and no rows (at line 1)`);
    }
    expect((await read("any_sheets.ods", { sheet: "Nope" })).fatal?.message).toBe('the spreadsheet has no sheet named "Nope" (sheets: "Visible", "Hidden", "VeryHidden", "Chart")');
  });

  it.each(["single-empty.ods", "multi-empty.ods"])("%s: repeated empty rows are skipped and the row after them keeps its line", async (file) => {
    const result = await read(file, { header: true });
    expect(result.rows.map((r) => [r.line, r.values.StringCol])).toEqual([
      [2, "bbb"],
      [3, "ccc"],
      [4, "ddd"],
      [5, "eee"],
      [13, "zzz"],
    ]);
  });

  it("number_rows_repeated.ods: table:number-rows-repeated rows with content are expanded, empty ones counted", async () => {
    const result = await read("number_rows_repeated.ods");
    expect(grid(result)).toEqual([
      ["A", "B"],
      ["C", "D"],
      ["C", "D"],
      ["C", "D"],
      ["C", "D"],
    ]);
    expect(lines(result)).toEqual([1, 2, 3, 6, 8]);
  });

  it("merged_cells.ods: covered cells are read as the file stores them", async () => {
    expect(grid(await read("merged_cells.ods"))).toEqual([
      ["A", "B", "C"],
      ["A", "B", "C"],
      [undefined, undefined, "C"],
    ]);
  });

  it("covered.ods: a covered cell's content is read", async () => {
    expect(grid(await read("covered.ods"))).toEqual([["a1"], ["a2"], ["a3"]]);
  });

  it("special_cells.ods: paragraphs joined by a line feed, text:s spaces kept where they are", async () => {
    expect(grid(await read("special_cells.ods")).map((r) => r[0])).toEqual([
      "Split\nLine",
      "Value  With spaces",
      "Value   With 3 spaces",
      " Value   With spaces before and after ",
      "  Value   With 2 spaces before and after  ",
    ]);
  });
});
