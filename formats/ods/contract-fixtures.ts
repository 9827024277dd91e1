/** Malformed ODS files the contract suite feeds to this plugin, with the rows a user should see reported. */
import type { ContractFixture } from "@data-exchange/format-sdk";
import { odsFixture } from "../_spreadsheet/fixture-files.js";

const text = (t: string, attrs = "") => `<table:table-cell office:value-type="string"${attrs}><text:p>${t}</text:p></table:table-cell>`;
const header = `<table:table-row>${text("id")}${text("name")}</table:table-row>`;
const row = (n: number, name = text(`n${n}`), attrs = "") => `<table:table-row${attrs}><table:table-cell office:value-type="float" office:value="${n}"/>${name}</table:table-row>`;
const empty = (count: number) => `<table:table-row table:number-rows-repeated="${count}"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>`;

export const contractFixtures: ContractFixture[] = [
  {
    name: "an error value in a cell is reported by its row and sheet line, and the rows after it still import",
    input: await odsFixture(header + row(2) + row(3, `<table:table-cell office:value-type="float" office:value="0" calcext:value-type="error"><text:p>#DIV/0!</text:p></table:table-cell>`) + row(4)),
    rows: 2,
    errors: [{ row: 2, line: 3 }],
  },
  {
    name: "repeated empty rows are counted, not read, and the row after them keeps its sheet line",
    input: await odsFixture(header + row(2) + empty(1_000_000) + row(1_000_003, `${text("x")}${text("no header")}`) + row(1_000_004)),
    rows: 2,
    errors: [{ row: 2, line: 1_000_003 }],
  },
  {
    name: "content past the last row a sheet can have is fatal, after the rows before it",
    input: await odsFixture(header + row(2) + empty(2_000_000) + row(3)),
    rows: 1,
    errors: [],
    fatal: { line: 2_000_003 },
  },
];
