/**
 * ODS beyond the contract suite: the written file as ODF and LibreOffice
 * expect it (mimetype first and stored, bold header rows, frozen pane,
 * filter), text with spaces, tabs and line breaks, and the reader on
 * hand-made files: repeated cells and rows (and bombs made of them), value
 * types, error cells, comments, hidden sheets, files that are not ODS.
 */
import { strFromU8, unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { FormatError, type Column, type Row } from "../../formats/_sdk/index.js";
import ods from "../../formats/ods/index.js";
import { inTimeZone } from "../support/time-zone.js";
import { batches, readAll, values } from "./support.js";
import { odsOf, zipOf } from "./spreadsheet-fixtures.js";

const columns: Column[] = [
  { key: "id", label: "ID", type: "number" },
  { key: "name", label: "Full name", type: "string" },
];

async function write(rows: Row[], options: Record<string, unknown> = {}, entity?: string): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of ods.write!(batches(rows, 2), { columns, options: ods.options.parse(options), useLabels: true, source: entity ? { entity } : undefined })) parts.push(c);
  return Buffer.concat(parts);
}

const table = (rows: string, name = "Sheet1", style = "") => `<table:table table:name="${name}"${style ? ` table:style-name="${style}"` : ""}>${rows}</table:table>`;
const row = (cells: string, repeat?: number) => `<table:table-row${repeat ? ` table:number-rows-repeated="${repeat}"` : ""}>${cells}</table:table-row>`;
const text = (t: string, attrs = "") => `<table:table-cell office:value-type="string"${attrs}><text:p>${t}</text:p></table:table-cell>`;
const header = row(text("id") + text("name"));

describe("an ODS export", () => {
  it("starts with a stored mimetype, has bold header rows frozen in settings.xml and a filter range", async () => {
    const bytes = await write([{ id: 1, name: "Ada" }], {}, "users");
    expect(Buffer.from(bytes.subarray(30, 38)).toString()).toBe("mimetype");
    expect(Buffer.from(bytes.subarray(38, 38 + 46)).toString()).toBe("application/vnd.oasis.opendocument.spreadsheet");
    expect(bytes[8]).toBe(0); // stored, not deflated
    const files = Object.fromEntries(Object.entries(unzipSync(bytes)).map(([k, v]) => [k, strFromU8(v)]));
    const content = files["content.xml"]!;
    expect(content).toContain('<style:style style:name="ce1" style:family="table-cell"><style:text-properties fo:font-weight="bold"/></style:style>');
    expect(content).toContain('<table:table table:name="users" table:style-name="ta1">');
    expect(content).toContain('<table:table-header-rows><table:table-row><table:table-cell table:style-name="ce1" office:value-type="string"><text:p>ID</text:p>');
    expect(content).toContain('<table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell>');
    expect(content).toContain(`table:target-range-address="'users'.A1:'users'.B2" table:display-filter-buttons="true"`);
    expect(files["settings.xml"]).toContain('<config:config-item-map-entry config:name="users"><config:config-item config:name="VerticalSplitMode" config:type="short">2</config:config-item>');
    expect(files["META-INF/manifest.xml"]).toContain('manifest:full-path="content.xml"');
  });

  it("continues past the row limit on 'users (2)', with the header again", async () => {
    const bytes = await write(
      [1, 2, 3].map((id) => ({ id })),
      { rowsPerSheet: 2 },
      "users",
    );
    const sheets = [];
    for (const sheet of ["users", "users (2)", "users (3)"]) sheets.push(values(await readAll(ods, bytes, { columns, options: { sheet } })));
    expect(sheets).toEqual([[{ id: 1 }], [{ id: 2 }], [{ id: 3 }]]);
  });

  it("refuses, left to choose a sheet, a spreadsheet whose first sheet goes on on 'users (2)', instead of reading the first alone", async () => {
    const bytes = await write(
      [1, 2, 3].map((id) => ({ id })),
      { rowsPerSheet: 2 },
      "users",
    );
    const read = await readAll(ods, bytes, { columns });
    expect(read.fatal?.message).toContain('the rows of sheet "users" go on on sheet "users (2)"');
  });

  it("keeps spaces, tabs, line breaks and carriage returns of text exactly", async () => {
    const names = [" one leading", "two  inside", "three   inside and trailing   ", "tab\tinside", "lines\nand\r\nCR\rtoo", "", "\n"];
    const bytes = await write(names.map((name, id) => ({ id, name })));
    expect(values(await readAll(ods, bytes, { columns })).map((v) => v.name)).toEqual(names);
  });

  it("fails the export naming the column when a value holds a character XML cannot carry", async () => {
    await expect(write([{ id: 1, name: "bell \u0007" }])).rejects.toThrow(new FormatError('the character U+0007 cannot be written to an ODS file (a value of column "name")'));
  });
});

describe("reading an ODS", () => {
  it("counts repeated empty cells and rows without expanding them, and expands repeated content", async () => {
    const body = table(
      header +
        row(`<table:table-cell table:number-columns-repeated="1000000000"/>`, 1_000_000) +
        row(text("7", ' table:number-columns-repeated="1"') + text("x")) +
        row(`<table:table-cell office:value-type="float" office:value="8"/>${text("y")}`, 2),
    );
    const result = await readAll(ods, odsOf(body), { columns });
    expect(result.rows).toEqual([
      { row: 1, line: 1_000_002, values: { id: "7", name: "x" } },
      { row: 2, line: 1_000_003, values: { id: 8, name: "y" } },
      { row: 3, line: 1_000_004, values: { id: 8, name: "y" } },
    ]);
  });

  it("turns a repeated-cells bomb into one row error per row, allocating no more cells than the column limit", async () => {
    const bomb = row(text("x", ' table:number-columns-repeated="16384"'), 3);
    const result = await readAll(ods, odsOf(table(bomb)), { options: { header: false }, limits: { maxColumns: 100 } });
    expect(result.errors.map((e) => [e.row, e.line, e.cell, e.reason])).toEqual([1, 2, 3].map((n) => [n, n, `Sheet1!CW${n}`, "row has a value in column 101, more than the limit of 100 columns"]));
  });

  it("refuses content past the last row a sheet can have", async () => {
    const result = await readAll(ods, odsOf(table(row("<table:table-cell/>", 2_000_000) + row(text("late")))), { options: { header: false } });
    expect(result.fatal?.message).toBe('sheet "Sheet1" has content beyond row 1048576, the largest sheet a spreadsheet can hold (at line 2000001)');
  });

  it("reads value types: float, percentage, currency, boolean, date, time, string-value; text spans, line breaks, headings; no comments", async () => {
    const cells =
      `<table:table-cell office:value-type="percentage" office:value="0.25"><text:p>25%</text:p></table:table-cell>` +
      `<table:table-cell office:value-type="currency" office:currency="EUR" office:value="12.5"><text:p>12,50 €</text:p></table:table-cell>` +
      `<table:table-cell office:value-type="boolean" office:boolean-value="true"><text:p>TRUE</text:p></table:table-cell>` +
      `<table:table-cell office:value-type="date" office:date-value="2024-03-07T14:30:00.5"><text:p>07.03.24</text:p></table:table-cell>` +
      `<table:table-cell office:value-type="time" office:time-value="PT01H30M00S"><text:p>01:30</text:p></table:table-cell>` +
      `<table:table-cell office:value-type="string" office:string-value="exact"><text:p>shown</text:p></table:table-cell>` +
      `<table:table-cell office:value-type="string"><office:annotation><text:p>a comment</text:p></office:annotation><text:p>a <text:span>span</text:span><text:line-break/>next</text:p><text:h>heading</text:h></table:table-cell>`;
    expect(values(await readAll(ods, odsOf(table(row(cells))), { options: { header: false } }))).toEqual([
      { column_1: 0.25, column_2: 12.5, column_3: true, column_4: new Date("2024-03-07T14:30:00.500Z"), column_5: "PT01H30M00S", column_6: "exact", column_7: "a span\nnext\nheading" },
    ]);
  });

  it("reads a date cell by the rules of a text timestamp: no rolled-over days, no cut digits, zone-less as UTC whatever the server's zone", async () => {
    const date = (v: string) => `<table:table-cell office:value-type="date" office:date-value="${v}"><text:p>shown</text:p></table:table-cell>`;
    const when: Column[] = [{ key: "when", label: "when", type: "timestamp" }];
    const cells = ["2024-02-29T23:59:59.999", "2024-02-30", "2024-03-07T24:00:00", "2024-03-07T14:30:00.1234", "2024-03-07T14:30:00.123000", "2024-03-07T14:30:00+02:00", "-0044-03-15"];
    const file = odsOf(table(row(text("when")) + cells.map((c) => row(date(c))).join("")));
    // A zone-less value read in the server's zone would move by 4-5 hours.
    await inTimeZone("America/New_York", async () => {
      const result = await readAll(ods, file, { columns: when });
      expect(values(result)).toEqual([
        { when: new Date("2024-02-29T23:59:59.999Z") },
        { when: new Date("2024-03-07T14:30:00.123Z") },
        { when: new Date("2024-03-07T12:30:00.000Z") },
        { when: new Date(Date.UTC(-44, 2, 15)) },
      ]);
      expect(result.errors.map((e) => [e.cell, e.reason])).toEqual([
        ["Sheet1!A3", 'cell Sheet1!A3 holds the error (an unreadable date: invalid day in timestamp "2024-02-30")'],
        ["Sheet1!A4", 'cell Sheet1!A4 holds the error (an unreadable date: invalid hour in timestamp "2024-03-07T24:00:00")'],
        [
          "Sheet1!A5",
          'cell Sheet1!A5 holds the error (an unreadable date: "2024-03-07T14:30:00.1234" is more precise than milliseconds, which is what a stored timestamp keeps: round it to 3 decimals in the file)',
        ],
      ]);
    });
  });

  it("reports a number or value type the file does not spell as ODF does as a row error, not as a value it never held", async () => {
    const cell = (attrs: string) => `<table:table-cell ${attrs}><text:p>shown</text:p></table:table-cell>`;
    const cells = [
      cell('office:value-type="float" office:value="0x10"'),
      cell('office:value-type="float" office:value=""'),
      cell('office:value-type="money" office:value="1"'),
      cell('office:value-type="float" office:value="-2.5E2"'),
    ];
    const file = odsOf(table(row(text("id")) + cells.map((c) => row(c)).join("")));
    const result = await readAll(ods, file, { columns: [{ key: "id", label: "ID", type: "string" }] });
    expect(result.errors.map((e) => e.reason)).toEqual([
      'cell Sheet1!A2 holds the error (an unreadable number "0x10")',
      'cell Sheet1!A3 holds the error (an unreadable number "")',
      'cell Sheet1!A4 holds the error (a cell of a value type ODF does not have: "money")',
    ]);
    expect(values(result)).toEqual([{ id: -250 }]);
  });

  it("reports an error cell as a row error naming the cell, and imports the next row", async () => {
    const error = `<table:table-cell table:formula="of:=1/0" office:value-type="float" office:value="0" calcext:value-type="error"><text:p>#DIV/0!</text:p></table:table-cell>`;
    const result = await readAll(ods, odsOf(table(header + row(text("1") + error) + row(text("2")), "Data sheet")), { columns });
    expect(result.errors).toEqual([{ row: 1, line: 2, column: "name", cell: "'Data sheet'!B2", reason: "cell 'Data sheet'!B2 holds the error #DIV/0!" }]);
    expect(values(result)).toEqual([{ id: "2" }]);
  });

  it("reports a formula the file holds no value of (calculated by no one) as a row error, not as an empty cell", async () => {
    const uncalculated = `<table:table-cell table:formula="of:=[.A2]*2"/>`;
    const calculatedEmpty = `<table:table-cell table:formula="of:=&quot;&quot;" office:value-type="string" office:string-value=""/>`;
    const shown = `<table:table-cell table:formula="of:=[.A4]&amp;&quot;x&quot;"><text:p>3x</text:p></table:table-cell>`;
    const file = odsOf(table(header + row(text("1") + uncalculated) + row(text("2") + calculatedEmpty) + row(text("3") + shown)));
    const result = await readAll(ods, file, { columns });
    expect(result.errors.map((e) => [e.row, e.reason])).toEqual([
      [
        1,
        "cell Sheet1!B2 holds the error (a formula whose value the file does not hold: the program that wrote it did not calculate it; open and save the file in LibreOffice or Excel, which store the values)",
      ],
    ]);
    expect(values(result)).toEqual([
      { id: "2", name: "" },
      { id: "3", name: "3x" },
    ]);
  });

  it("skips hidden sheets by default, reads them by name, and prefers a sheet named '2' over the second sheet", async () => {
    const styles = `<style:style style:name="hid" style:family="table"><style:table-properties table:display="false"/></style:style>`;
    const file = odsOf(table(row(text("hidden")), "Lookup", "hid") + table(row(text("second")), "Data") + table(row(text("named two")), "2"), styles);
    const first = async (options: Record<string, unknown>) => values(await readAll(ods, file, { options: { header: false, ...options } }))[0]?.column_1;
    expect(await first({})).toBe("second");
    expect(await first({ sheet: "lookup" })).toBe("hidden");
    expect(await first({ sheet: "2" })).toBe("named two");
    expect(await first({ sheet: 2 })).toBe("second");
    expect(await first({ sheet: "3" })).toBe("named two");
    expect((await readAll(ods, file, { options: { sheet: 4 } })).fatal?.message).toBe('the spreadsheet has no sheet 4 (sheets: "Lookup", "Data", "2")');
  });

  it("says what is wrong with a file that is not an ODS spreadsheet", async () => {
    const read = async (bytes: Uint8Array) => (await readAll(ods, bytes)).fatal?.message;
    expect(await read(odsOf(table(""), "", "application/vnd.oasis.opendocument.text"))).toBe('not an ODS spreadsheet: the file says it is "application/vnd.oasis.opendocument.text"');
    expect(await read(zipOf({ "xl/workbook.xml": "<workbook/>" }))).toBe("not an ODS spreadsheet: the file has neither a mimetype nor a content.xml");
  });
});
