/** Malformed workbooks the contract suite feeds to this plugin, with the rows a user should see reported. */
import type { ContractFixture } from "@data-exchange/format-sdk";
import { xlsxFixture } from "../_spreadsheet/fixture-files.js";

const text = (ref: string, t: string) => `<c r="${ref}" t="inlineStr"><is><t>${t}</t></is></c>`;
const header = `<row r="1">${text("A1", "id")}${text("B1", "name")}</row>`;
const row = (n: number, b = `${text(`B${n}`, `n${n}`)}`) => `<row r="${n}"><c r="A${n}"><v>${n}</v></c>${b}</row>`;

const whole = await xlsxFixture(header + row(2) + row(3) + row(4));

export const contractFixtures: ContractFixture[] = [
  {
    name: "an error value in a cell is reported by its row and sheet line, and the rows after it still import",
    input: await xlsxFixture(header + row(2) + row(3, `<c r="B3" t="e"><f>1/0</f><v>#DIV/0!</v></c>`) + row(4)),
    rows: 2,
    errors: [{ row: 2, line: 3 }],
  },
  {
    name: "a value in a column without a header is a row error, and blank rows between records are skipped",
    input: await xlsxFixture(header + row(2) + row(5, `${text("B5", "x")}<c r="D5"><v>1</v></c>`) + row(9)),
    rows: 2,
    errors: [{ row: 2, line: 5 }],
  },
  {
    name: "rows numbered backwards are fatal, after the rows before them",
    input: await xlsxFixture(header + row(2) + row(7) + row(5)),
    rows: 2,
    errors: [],
    fatal: { line: 8 },
  },
  {
    name: "a file cut short is fatal",
    input: whole.subarray(0, whole.length - 40),
    rows: 0,
    errors: [],
    fatal: {},
  },
];
