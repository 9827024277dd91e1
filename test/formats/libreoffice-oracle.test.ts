/**
 * The spreadsheets we write, opened by LibreOffice (an independent
 * implementation of both formats): every XLSX and ODS file below must open
 * in headless LibreOffice Calc and show, converted to CSV as shown on
 * screen, the cells we meant — labels in the header, numbers as numbers,
 * booleans as booleans, timestamps in the visible date-time format, text
 * exactly, empty cells empty, and rows past a sheet's limit on the next
 * sheet. LibreOffice is installed by `ensureLibreOffice()` when missing.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Column, FormatPlugin, Row } from "../../formats/_sdk/index.js";
import ods from "../../formats/ods/index.js";
import xlsx from "../../formats/xlsx/index.js";
import { convertToCsv, ensureLibreOffice, renderFirstSheet } from "../support/libreoffice.js";
import { writeAll } from "./support.js";

const columns: Column[] = [
  { key: "id", label: "ID", type: "number" },
  { key: "name", label: "Full name", type: "string" },
  { key: "active", label: "Active?", type: "boolean" },
  { key: "born", label: "Born at", type: "timestamp" },
  { key: "score", label: "Score", type: "number" },
];

const rows: Row[] = [
  // biome-ignore lint/suspicious/noApproximativeNumericConstant: a value with few digits, which LibreOffice shows as written
  { id: 1, name: "Ada Lovelace", active: true, born: new Date("2024-02-29T23:59:59.999Z"), score: 3.14159 },
  { id: -42, name: "", active: false, born: new Date("1969-07-20T20:17:40.000Z"), score: -5e-8 },
  { id: 3 },
  { id: 4, name: "emoji 😀👩‍👩‍👧, CJK 漢字かな, RTL שלום", score: 1e21 },
  { id: 5, name: "line one\nline two", score: 0.14285714285714285 },
  { id: 6, name: `comma, semicolon; tab\t quote " apostrophe ' <b>not bold</b> & ampersand`, score: 123456789.123456 },
  { id: 7, name: "  two spaces before, three   inside, one after ", active: true },
  { id: 8, name: "=SUM(A1:A2)", score: 9007199254740991 },
  { id: 9, name: "_x0041_ is not an escape", born: new Date("1900-03-01T00:00:00.000Z") },
];

/** What LibreOffice's CSV shows for a cell we wrote from `value`. */
function shown(value: unknown, format: "xlsx" | "ods"): string | number {
  if (value === undefined || value === null) return "";
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (typeof value === "number") return value;
  if (value instanceof Date) {
    const iso = value.toISOString();
    // XLSX writes dates before 1900-03-01 as their ISO text; ODS holds any date.
    if (format === "xlsx" && value.getTime() < Date.UTC(1900, 2, 1)) return iso;
    return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
  }
  return String(value);
}

function expectCells(csv: string[][], expected: Row[], format: "xlsx" | "ods") {
  expect(csv[0]).toEqual(columns.map((c) => c.label));
  expect(csv.length).toBe(expected.length + 1);
  for (const [i, row] of expected.entries()) {
    const line = csv[i + 1]!;
    for (const [j, c] of columns.entries()) {
      const want = shown(row[c.key], format);
      const got = line[j] ?? "";
      const where = `row ${i + 2}, ${c.key}`;
      if (typeof want === "number") expect(Math.abs(Number(got) - want), `${where}: ${got}`).toBeLessThanOrEqual(Math.abs(want) * 1e-14);
      else if (format === "ods" && row[c.key] instanceof Date && /^\d{4}-\d\d-\d\d \d\d:/.test(want)) {
        // LibreOffice computes an ODS date-value's day fraction itself and truncates the milliseconds it
        // shows: 20:17:40.000 may show as 20:17:39.999. The value is the instant to well under a millisecond.
        expect(Math.abs(Date.parse(`${got.replace(" ", "T")}Z`) - (row[c.key] as Date).getTime()), `${where}: ${got}`).toBeLessThanOrEqual(1);
      } else expect(got, where).toBe(want);
    }
  }
}

let soffice = "";
let dir = "";
beforeAll(() => {
  soffice = ensureLibreOffice();
  dir = mkdtempSync(join(tmpdir(), "dx-oracle-"));
}, 1_200_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function written(plugin: FormatPlugin, data: Row[], options: Record<string, unknown> = {}): Promise<string> {
  const file = join(dir, `${plugin.name}-${Math.random().toString(36).slice(2)}.${plugin.extensions[0]}`);
  writeFileSync(file, await writeAll(plugin, data, columns, options));
  return file;
}

describe.each([
  ["xlsx", xlsx],
  ["ods", ods],
] as const)("LibreOffice opening the %s files we write", (format, plugin) => {
  it("shows the header labels and every cell's value: numbers, booleans, date-times, text, empty cells", async () => {
    expectCells(await convertToCsv(soffice, await written(plugin, rows)), rows, format);
  }, 180_000);

  it("shows the rows past a sheet's limit on a second sheet, with the header again", async () => {
    const file = await written(plugin, rows, { rowsPerSheet: 6 });
    expectCells(await convertToCsv(soffice, file, 1), rows.slice(0, 5), format);
    expectCells(await convertToCsv(soffice, file, 2), rows.slice(5), format);
  }, 180_000);

  it("renders what a person sees: the header in bold, booleans as TRUE and FALSE, date-times in full, columns wide enough", async () => {
    const { rows: shownRows, widths } = await renderFirstSheet(soffice, await written(plugin, rows.slice(0, 2)));
    expect(shownRows[0]).toEqual(columns.map((c) => ({ text: c.label, bold: true })));
    expect(shownRows[1]!.map((c) => c.text)).toEqual(["1", "Ada Lovelace", "TRUE", "2024-02-29 23:59:59.999", "3.14159"]);
    // (LibreOffice may show an ODS date-value's 40.000 as 39.999: see expectCells.)
    expect(shownRows[2]!.slice(0, 3).map((c) => c.text)).toEqual(["-42", "", "FALSE"]);
    expect(shownRows[2]![3]!.text).toMatch(/^1969-07-20 20:17:(40\.000|39\.999)$/);
    expect(Number(shownRows[2]![4]!.text)).toBe(-5e-8);
    expect(shownRows[1]!.every((c) => !c.bold)).toBe(true);
    // The date-time column is wider than its 7-character label: "2024-02-29 23:59:59.999" fits.
    expect(widths[3]!).toBeGreaterThan(widths[0]! * 2);
  }, 180_000);

  it("opens a file of zero rows as a header only", async () => {
    expect(await convertToCsv(soffice, await written(plugin, []))).toEqual([columns.map((c) => c.label)]);
  }, 180_000);
});
