/**
 * XLSX beyond the contract suite: what the written workbook looks like to a
 * person (bold frozen header, filter, widths, typed cells, sheets past the
 * row limit), text that Excel or XML would change, and the reader on
 * workbooks written by hand to hold one quirk each — sparse rows, errors,
 * formulas, rich text, date formats, zip bombs, broken files.
 */
import { continuesSheet } from "../../formats/_spreadsheet/choose-sheet.js";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { strFromU8, unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { coerceCell, DEFAULT_READ_LIMITS, FormatError, type Column, type Row } from "../../formats/_sdk/index.js";
import { openZip } from "../../formats/_spreadsheet/zip-reader.js";
import xlsx from "../../formats/xlsx/index.js";
import { SharedStrings } from "../../formats/xlsx/shared-strings.js";
import { inTimeZone } from "../support/time-zone.js";
import { batches, chunked, readAll, values } from "./support.js";
import { xlsxOf, zipOf } from "./spreadsheet-fixtures.js";

const columns: Column[] = [
  { key: "id", label: "ID", type: "number" },
  { key: "name", label: "Full name", type: "string" },
  { key: "active", label: "Active?", type: "boolean" },
  { key: "born", label: "Born at", type: "timestamp" },
];

async function write(rows: Row[], options: Record<string, unknown> = {}, entity?: string): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of xlsx.write!(batches(rows, 2), { columns, options: xlsx.options.parse(options), useLabels: true, source: entity ? { entity } : undefined })) parts.push(c);
  return Buffer.concat(parts);
}

function parts(bytes: Uint8Array): Record<string, string> {
  return Object.fromEntries(Object.entries(unzipSync(bytes)).map(([k, v]) => [k, strFromU8(v)]));
}

describe("an XLSX export", () => {
  it("has a bold, frozen header with an autofilter, sized columns, and typed cells", async () => {
    const file = parts(await write([{ id: 1, name: "Ada", active: true, born: new Date("2024-03-07T14:30:00.250Z") }, { id: 2 }], {}, "users"));
    const sheet = file["xl/worksheets/sheet1.xml"]!;
    expect(sheet).toContain('<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>');
    expect(sheet).toContain('<autoFilter ref="A1:D3"/>');
    expect(sheet).toMatch(/<cols><col min="1" max="1" width="\d+" customWidth="1"\/>/);
    expect(sheet).toContain('<c r="A1" s="1" t="inlineStr"><is><t>ID</t></is></c>');
    expect(sheet).toContain('<c r="A2"><v>1</v></c><c r="B2" t="inlineStr"><is><t>Ada</t></is></c><c r="C2" s="3" t="b"><v>1</v></c>');
    // 2024-03-07T14:30:00.250Z is day 45358 plus 14.5 hours and a quarter second.
    expect(sheet).toMatch(/<c r="D2" s="2"><v>45358\.6041695601\d*<\/v><\/c>/);
    expect(sheet).toContain('<row r="3"><c r="A3"><v>3</v></c></row>'.replace("<v>3</v>", "<v>2</v>"));
    expect(file["xl/styles.xml"]).toContain('<numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss.000"/>');
    expect(file["xl/styles.xml"]).toContain("<font><b/>");
    expect(file["xl/workbook.xml"]).toContain('<sheet name="users" sheetId="1" r:id="rId1"/>');
    expect(file["xl/workbook.xml"]).toContain(`<definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">users!$A$1:$D$3</definedName>`);
    expect(Object.keys(file)[0]).toBe("[Content_Types].xml");
  });

  it("continues past the row limit on sheets named 'users (2)', 'users (3)', each with the header", async () => {
    const rows = [1, 2, 3, 4, 5].map((id) => ({ id, name: `n${id}` }));
    const bytes = await write(rows, { rowsPerSheet: 3 }, "users");
    expect(parts(bytes)["xl/workbook.xml"]).toContain(
      '<sheet name="users" sheetId="1" r:id="rId1"/><sheet name="users (2)" sheetId="2" r:id="rId2"/><sheet name="users (3)" sheetId="3" r:id="rId3"/>',
    );
    const ids = [];
    for (const sheet of ["users", "users (2)", "users (3)"]) ids.push(values(await readAll(xlsx, bytes, { columns, options: { sheet } })).map((v) => v.id));
    expect(ids).toEqual([[1, 2], [3, 4], [5]]);
  });

  it("refuses, left to choose a sheet, a workbook whose first sheet goes on on 'users (2)', instead of reading the first alone", async () => {
    const bytes = await write(
      [1, 2, 3, 4, 5].map((id) => ({ id, name: `n${id}` })),
      { rowsPerSheet: 3 },
      "users",
    );
    const read = await readAll(xlsx, bytes, { columns });
    expect(read.fatal?.message).toContain('the rows of sheet "users" go on on sheets "users (2)", "users (3)"');
    // Refused before a row is read: the sheet names come first in a workbook.
    expect(read.rows).toEqual([]);
    // A sheet that merely looks alike is another sheet: "users (1)" is no continuation, nor is "staff (2)".
    expect(continuesSheet("users", "users (1)")).toBe(false);
    expect(continuesSheet("users", "staff (2)")).toBe(false);
    // Long names are cut to leave room for the suffix, as the writer cuts them.
    const long = "a".repeat(31);
    expect(continuesSheet(long, `${"a".repeat(27)} (2)`)).toBe(true);
  });

  it("writes no header row, pane or filter with header: false, and reads back by position", async () => {
    const bytes = await write([{ id: 1, name: "a" }], { header: false });
    const sheet = parts(bytes)["xl/worksheets/sheet1.xml"]!;
    expect(sheet).not.toContain("<pane");
    expect(sheet).not.toContain("autoFilter");
    expect(values(await readAll(xlsx, bytes, { columns, options: { header: false } }))).toEqual([{ id: 1, name: "a" }]);
  });

  it("keeps text Excel would decode or XML cannot hold: _xHHHH_ lookalikes, control characters, lone surrogates, CR, edge spaces", async () => {
    const names = ["_x0041_ and _x005F_", "bell \u0007 and nul \u0000", "lone \ud800 high", "cr\r\nlf", "  spaced  ", "\ttab first"];
    const bytes = await write(names.map((name, i) => ({ id: i, name })));
    expect(values(await readAll(xlsx, bytes, { columns })).map((v) => v.name)).toEqual(names);
  });

  it("writes dates Excel cannot show (before 1900-03-01) as ISO text that imports as the same instant", async () => {
    const born = new Date("1815-12-10T00:00:00.000Z");
    const bytes = await write([{ id: 1, born }]);
    expect(parts(bytes)["xl/worksheets/sheet1.xml"]).toContain('<c r="D2" t="inlineStr"><is><t>1815-12-10T00:00:00.000Z</t></is></c>');
    const [row] = values(await readAll(xlsx, bytes, { columns }));
    expect(coerceCell(row!.born, "timestamp")).toEqual({ ok: true, value: born });
  });

  it("writes a text of 32,767 characters, the most an Excel cell holds, whole", async () => {
    const name = `${"é".repeat(32_766)}x`;
    const bytes = await write([{ id: 1, name }]);
    expect(values(await readAll(xlsx, bytes, { columns }))[0]!.name).toBe(name);
  });

  it("refuses a longer text, naming the record, the column and the cell, instead of a file Excel would cut it in", async () => {
    const rows = [
      { id: 1, name: "Ada" },
      { id: 2, name: "x".repeat(32_768) },
      { id: 3, name: "Grace" },
    ];
    const error = await write(rows, { rowsPerSheet: 2 }, "users").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FormatError);
    expect(error).toMatchObject({
      row: 2,
      column: "name",
      reason:
        'a text of 32768 characters in cell B2 of sheet "users (2)" is longer than the 32767 an Excel cell holds (Excel cuts it when it opens the file); export as ODS, CSV or JSON to keep it whole',
    });
    // A character outside the BMP is two of the UTF-16 units Excel counts.
    await expect(write([{ id: 1, name: "😀".repeat(16_384) }])).rejects.toThrow("a text of 32768 characters in cell B2");
  });

  it("counts a value written as JSON text by its text", async () => {
    const wide: Column[] = [{ key: "tags", label: "Tags", type: "string_list" }];
    const write1 = async (tags: string[]) => {
      for await (const _ of xlsx.write!(batches([{ tags } as unknown as Row]), { columns: wide, options: xlsx.options.parse({}), useLabels: false })) void _;
    };
    await expect(write1(["y".repeat(32_763)])).resolves.toBeUndefined(); // ["…"] is 32,767 characters
    await expect(write1(["y".repeat(32_764)])).rejects.toThrow(/a text of 32768 characters in cell A2 of sheet "Sheet1"/);
  });

  it("refuses more columns than a sheet holds before writing a byte", async () => {
    const wide = Array.from({ length: 16_385 }, (_, i): Column => ({ key: `c${i}`, label: `c${i}`, type: "string" }));
    const out = xlsx.write!(batches([]), { columns: wide, options: xlsx.options.parse({}), useLabels: true });
    await expect(out[Symbol.asyncIterator]().next()).rejects.toThrow("an XLSX sheet holds at most 16384 columns; the export has 16385");
  });

  it("stops pulling rows and closes their source when the consumer stops early", async () => {
    let closed = false;
    let pulled = 0;
    async function* rows() {
      try {
        for (let b = 0; b < 1000; b++) {
          pulled++;
          yield Array.from({ length: 1000 }, (_, i) => ({ id: b * 1000 + i, name: "x".repeat(50) }));
        }
      } finally {
        closed = true;
      }
    }
    for await (const _ of xlsx.write!(rows(), { columns, options: xlsx.options.parse({}), useLabels: true })) break;
    expect(closed).toBe(true);
    expect(pulled).toBeLessThan(100);
  });
});

const sheetRows = (...rows: string[]) => rows.join("");

describe("reading an XLSX", () => {
  it("reads sparse rows (missing cells, missing r attributes) and ignores trailing empty columns", async () => {
    const file = xlsxOf(
      sheetRows(
        `<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c><c r="B1" t="inlineStr"><is><t>name</t></is></c><c r="D1"/></row>`,
        `<row r="2"><c r="B2" t="inlineStr"><is><t>only b</t></is></c></row>`,
        `<row><c><v>3</v></c><c t="inlineStr"><is><t>no refs</t></is></c><c r="E3"/></row>`,
      ),
    );
    const result = await readAll(xlsx, file, { columns });
    expect(result.rows).toEqual([
      { row: 1, line: 2, values: { name: "only b" } },
      { row: 2, line: 3, values: { id: 3, name: "no refs" } },
    ]);
  });

  it("reads a date cell stored as ISO text by the rules of a text timestamp: zone-less as UTC whatever the server's zone, no rolled-over days, no cut digits", async () => {
    const when: Column[] = [{ key: "when", label: "when", type: "timestamp" }];
    const cells = ["2024-03-07T14:30:00", "2024-03-07T14:30:00.5Z", "2024-03-07T14:30:00-05:00", "2024-02-30T00:00:00", "2024-03-07T14:30:00.0000001", "March 7"];
    const file = xlsxOf(sheetRows(`<row r="1"><c r="A1" t="inlineStr"><is><t>when</t></is></c></row>`, ...cells.map((c, i) => `<row r="${i + 2}"><c r="A${i + 2}" t="d"><v>${c}</v></c></row>`)));
    // new Date() would read a zone-less date-time 5:30 hours off.
    await inTimeZone("Asia/Kolkata", async () => {
      const result = await readAll(xlsx, file, { columns: when });
      expect(values(result)).toEqual([{ when: new Date("2024-03-07T14:30:00Z") }, { when: new Date("2024-03-07T14:30:00.500Z") }, { when: new Date("2024-03-07T19:30:00Z") }]);
      expect(result.errors.map((e) => e.reason)).toEqual([
        'cell Sheet1!A5 holds the error (an unreadable date: invalid day in timestamp "2024-02-30T00:00:00")',
        'cell Sheet1!A6 holds the error (an unreadable date: "2024-03-07T14:30:00.0000001" is more precise than milliseconds, which is what a stored timestamp keeps: round it to 3 decimals in the file)',
        'cell Sheet1!A7 holds the error (an unreadable date: not an ISO 8601 date-time: "March 7")',
      ]);
    });
  });

  it("reports a number, boolean or cell type the file does not spell as XLSX does as a row error, not as a value it never held", async () => {
    const head = `<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c><c r="B1" t="inlineStr"><is><t>name</t></is></c></row>`;
    const cells = [`<c r="A2"><v>0x1A</v></c>`, `<c r="A3" t="b"><v>2</v></c>`, `<c r="A4" t="date"><v>1</v></c>`, `<c r="A5"><v>1.5e3</v></c>`, `<c r="A6" t="b"><v>0</v></c>`];
    const file = xlsxOf(sheetRows(head, ...cells.map((c, i) => `<row r="${i + 2}">${c}</row>`)));
    const result = await readAll(xlsx, file, { columns: [{ key: "id", label: "ID", type: "string" }] });
    expect(result.errors.map((e) => e.reason)).toEqual([
      'cell Sheet1!A2 holds the error (a number that is not one: "0x1A")',
      'cell Sheet1!A3 holds the error (an unreadable boolean "2")',
      'cell Sheet1!A4 holds the error (a cell of a type XLSX does not have: t="date")',
    ]);
    expect(values(result)).toEqual([{ id: 1500 }, { id: false }]);
  });

  it("reports an error value as a row error naming the cell, and imports the next row", async () => {
    const file = xlsxOf(
      sheetRows(
        `<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c><c r="B1" t="inlineStr"><is><t>name</t></is></c></row>`,
        `<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>`,
        `<row r="3"><c r="A3"><v>2</v></c></row>`,
      ),
      { sheets: ["My data"] },
    );
    const result = await readAll(xlsx, file, { columns });
    expect(result.errors).toEqual([{ row: 1, line: 2, column: "name", cell: "'My data'!B2", reason: "cell 'My data'!B2 holds the error #DIV/0!" }]);
    expect(values(result)).toEqual([{ id: 2 }]);
  });

  it("reads formulas as their cached values, numbers and strings", async () => {
    const file = xlsxOf(
      sheetRows(
        `<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c><c r="B1" t="inlineStr"><is><t>name</t></is></c></row>`,
        `<row r="2"><c r="A2"><f>1+1</f><v>2</v></c><c r="B2" t="str"><f>"a"&amp;"b"</f><v>ab</v></c></row>`,
      ),
    );
    expect(values(await readAll(xlsx, file, { columns }))).toEqual([{ id: 2, name: "ab" }]);
  });

  it("reports a formula the file holds no value of (never calculated, as openpyxl writes it) as a row error, not as an empty cell", async () => {
    const file = xlsxOf(
      sheetRows(
        `<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c><c r="B1" t="inlineStr"><is><t>name</t></is></c></row>`,
        `<row r="2"><c r="A2"><v>1</v></c><c r="B2"><f>A2*2</f></c></row>`,
        `<row r="3"><c r="A3"><v>2</v></c><c r="B3" t="str"><f t="shared" si="0"/></c></row>`,
        `<row r="4"><c r="A4"><v>3</v></c><c r="B4"><f>A4*2</f><v></v></c></row>`,
        `<row r="5"><c r="A5"><v>4</v></c><c r="B5" t="str"><f>""</f><v></v></c></row>`,
      ),
    );
    const result = await readAll(xlsx, file, { columns });
    const uncalculated =
      "holds the error (a formula whose value the file does not hold: the program that wrote it did not calculate it; open and save the file in Excel or LibreOffice, which store the values)";
    expect(result.errors.map((e) => [e.row, e.cell, e.reason])).toEqual([
      [1, "Sheet1!B2", `cell Sheet1!B2 ${uncalculated}`],
      [2, "Sheet1!B3", `cell Sheet1!B3 ${uncalculated}`],
      [3, "Sheet1!B4", `cell Sheet1!B4 ${uncalculated}`],
    ]);
    // A text formula calculated to "" holds its value: empty text.
    expect(values(result)).toEqual([{ id: 4, name: "" }]);
  });

  it("joins rich-text runs of a shared string and leaves out phonetic guides", async () => {
    const file = xlsxOf(`<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row>`, {
      sharedStrings: ["<t>name</t>", `<r><t xml:space="preserve">Hello </t></r><r><rPr><b/></rPr><t>World</t></r><rPh sb="0" eb="1"><t>ハロー</t></rPh>`],
    });
    expect(values(await readAll(xlsx, file, { columns }))).toEqual([{ name: "Hello World" }]);
  });

  it("reports a shared-string index the table does not have as a row error", async () => {
    const file = xlsxOf(`<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>7</v></c></row>`, { sharedStrings: ["<t>name</t>"] });
    const result = await readAll(xlsx, file, { columns });
    expect(result.errors.map((e) => [e.row, e.cell])).toEqual([[1, "Sheet1!A2"]]);
    expect(result.errors[0]!.reason).toContain('a shared string "7" that the workbook does not have');
  });

  it("reports a value in a column with no header, and a row wider than the column limit", async () => {
    const head = `<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c></row>`;
    const file = xlsxOf(`${head}<row r="2"><c r="A2"><v>1</v></c><c r="C2"><v>9</v></c></row><row r="3"><c r="A3"><v>2</v></c></row>`);
    const result = await readAll(xlsx, file, { columns });
    expect(result.errors).toEqual([{ row: 1, line: 2, cell: "Sheet1!C2", reason: "cell Sheet1!C2 has a value but its column has no header" }]);
    expect(values(result)).toEqual([{ id: 2 }]);
    const wide = xlsxOf(`<row r="1"><c r="A1"><v>1</v></c><c r="Z1"><v>2</v></c></row>`);
    const narrow = await readAll(xlsx, wide, { options: { header: false }, limits: { maxColumns: 10 } });
    expect(narrow.errors.map((e) => e.reason)).toEqual(["row has a value in column 26, more than the limit of 10 columns"]);
  });

  it("reads numbers with date formats as dates (built-in, custom, 1904 system), percentages as numbers, time formats as durations", async () => {
    const styles =
      `<numFmts count="3"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/><numFmt numFmtId="165" formatCode="[h]:mm"/><numFmt numFmtId="166" formatCode="&quot;day&quot; 0.00"/></numFmts>` +
      `<cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/><xf numFmtId="165"/><xf numFmtId="10"/><xf numFmtId="166"/></cellXfs>`;
    const data = `<row r="1"><c r="A1" s="1"><v>45358.5</v></c><c r="B1" s="2"><v>45358</v></c><c r="C1" s="3"><v>1.5</v></c><c r="D1" s="4"><v>0.25</v></c><c r="E1" s="5"><v>3</v></c><c r="F1"><v>45358</v></c></row>`;
    expect(values(await readAll(xlsx, xlsxOf(data, { styles }), { options: { header: false } }))).toEqual([
      { column_1: new Date("2024-03-07T12:00:00Z"), column_2: new Date("2024-03-07T00:00:00Z"), column_3: "PT36H0M0S", column_4: 0.25, column_5: 3, column_6: 45358 },
    ]);
    const in1904 = await readAll(xlsx, xlsxOf(`<row r="1"><c r="A1" s="1"><v>43896</v></c></row>`, { styles, workbookPr: '<workbookPr date1904="1"/>' }), { options: { header: false } });
    expect(values(in1904)).toEqual([{ column_1: new Date("2024-03-07T00:00:00Z") }]);
  });

  it("refuses rows out of order, which no spreadsheet writes", async () => {
    const result = await readAll(xlsx, xlsxOf(`<row r="5"><c r="A5"><v>1</v></c></row><row r="2"><c r="A2"><v>1</v></c></row>`), { options: { header: false } });
    expect(result.fatal?.message).toBe('sheet "Sheet1" has a row numbered "2" after row 5 (at line 6)');
  });

  it("refuses a text node larger than any cell may be, without holding it", async () => {
    const file = xlsxOf(`<row r="1"><c r="A1" t="inlineStr"><is><t>${"x".repeat(3_000_000)}</t></is></c></row>`);
    const result = await readAll(xlsx, file, { options: { header: false }, limits: { maxRowBytes: 1000 } });
    expect(result.fatal?.message).toMatch(/^xl\/worksheets\/sheet1\.xml has a text of more than 131072 characters without markup/);
  });

  it("says what is wrong with a file that is not an XLSX workbook", async () => {
    const read = async (bytes: Uint8Array | string) => (await readAll(xlsx, bytes)).fatal?.message;
    expect(await read("id,name\n1,a\n")).toBe('not an XLSX workbook: the file is not a ZIP archive (it does not start with "PK") (at byte 0)');
    expect(await read(zipOf({ "word/document.xml": "<w/>" }))).toBe("not an XLSX workbook: the file has no workbook part (xl/workbook.xml)");
    const whole = xlsxOf(`<row r="1"><c r="A1"><v>1</v></c></row>`);
    expect(await read(whole.subarray(0, whole.length - 30))).toMatch(/^not an XLSX workbook: cannot read the ZIP archive/);
    expect(await read(xlsxOf('<row r="1"><c r="A1"><v>1</v></row>'))).toMatch(/^xl\/worksheets\/sheet1\.xml is not well-formed XML/);
  });

  it("refuses zip bombs before inflating them: too many entries, an entry out of proportion, more than the total limit", async () => {
    const many: Record<string, string> = {};
    for (let i = 0; i <= 10_000; i++) many[`f${i}`] = "";
    expect((await readAll(xlsx, zipOf(many, 0))).fatal?.message).toBe("refused: the ZIP archive lists 10001 entries, more than the limit of 10000");
    const zeros = zipOf({ "xl/worksheets/sheet1.xml": new Uint8Array(64 * 1024 * 1024) });
    expect((await readAll(xlsx, zeros)).fatal?.message).toMatch(/^refused: ZIP entry "xl\/worksheets\/sheet1.xml" unpacks \d+ times its size, more than the limit of 1000 \(a zip bomb\?\)$/);
    const big = xlsxOf(`<row r="1"><c r="A1"><v>1</v></c></row>`);
    await expect(openZip(chunked(big), "an XLSX workbook", { maxEntries: 100, maxUncompressedBytes: 100, maxRatio: 1000 })).rejects.toThrow(
      new FormatError("refused: the ZIP archive unpacks to more than 100 bytes (a zip bomb?)"),
    );
  });

  it("keeps a large shared-strings table partly on disk and reads every string back", async () => {
    const items = Array.from({ length: 5000 }, (_, i) => `<si><t xml:space="preserve">string ${i} ${"é".repeat(i % 7)}</t></si>`).join("");
    const table = await SharedStrings.load(chunked(`<sst>${items}</sst>`, 1000), 1 << 20, { inMemoryChars: 10_000, inMemoryStrings: 1000, maxStrings: 10_000 });
    try {
      expect(table.size).toBe(5000);
      expect(table.spilled).toBeGreaterThan(3000);
      for (const i of [0, 999, 1000, 2500, 4999, 2500]) expect(table.get(i)).toBe(`string ${i} ${"é".repeat(i % 7)}`);
      expect(table.get(5000)).toBeUndefined();
    } finally {
      table.close();
    }
    await expect(SharedStrings.load(chunked(`<sst>${items}</sst>`), 1 << 20, { inMemoryChars: 10_000, inMemoryStrings: 1000, maxStrings: 4000 })).rejects.toThrow(
      "the workbook's shared-strings table has more than 4000 strings, more than this reader holds",
    );
  });

  it("removes its temporary files when reading ends, whether it finished, failed or was stopped early", async () => {
    const previous = process.env.TMPDIR;
    const tmp = mkdtempSync(join(tmpdir(), "dx-xlsx-tmp-"));
    process.env.TMPDIR = tmp; // os.tmpdir() reads it on every call
    try {
      const bytes = await write(Array.from({ length: 20_000 }, (_, i) => ({ id: i, name: `${i}` })));
      const big = zipOf({ ...unzipSync(bytes), "xl/media/noise.bin": randomBytes(9 * 1024 * 1024) }, 0);
      let seen = 0;
      for await (const batch of xlsx.read!(chunked(big), { options: xlsx.options.parse({}), columns, limits: DEFAULT_READ_LIMITS })) {
        seen += batch.length;
        expect(readdirSync(tmp)).toHaveLength(1); // the spooled upload, while rows flow
        break;
      }
      expect(seen).toBeGreaterThan(0);
      expect(readdirSync(tmp)).toEqual([]);
      expect((await readAll(xlsx, big, { columns })).rows).toHaveLength(20_000);
      const broken = zipOf({ ...unzipSync(bytes), "xl/worksheets/sheet1.xml": new TextEncoder().encode("<worksheet><sheetData><row>"), "xl/media/noise.bin": randomBytes(9 * 1024 * 1024) }, 0);
      expect((await readAll(xlsx, broken, { columns })).fatal).toBeDefined();
      const table = await SharedStrings.load(chunked(`<sst>${"<si><t>spilled</t></si>".repeat(50)}</sst>`), 1 << 20, { inMemoryChars: 10, inMemoryStrings: 1, maxStrings: 100 });
      expect(table.spilled).toBe(49);
      table.close();
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("reads an upload larger than its in-memory bound from a temporary file", async () => {
    const rows = Array.from({ length: 60_000 }, (_, i) => ({ id: i, name: `${i} ${Math.random().toString(36)} ${Math.random().toString(36)}` }));
    const bytes = await write(rows);
    const padded = zipOf({ ...unzipSync(bytes), "xl/media/noise.bin": randomBytes(9 * 1024 * 1024) }, 0);
    expect(padded.length).toBeGreaterThan(8 * 1024 * 1024);
    const result = await readAll(xlsx, padded, { columns });
    expect(result.rows.length).toBe(60_000);
  });
});
