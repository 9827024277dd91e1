/**
 * Choosing an upload's format when the request names none, on real files of
 * each kind (calamine's workbooks, csv-spectrum, OULAD, our own exports), and
 * refusing what no reader takes or what says two things at once.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkNamedFormat, chooseFormat, DETECTION_PEEK, extensionOf, peekHead } from "../../../services/transfer/core/format-detection.js";
import { TransferSettingsError } from "../../../services/transfer/core/errors.js";
import { defaultFormatsDir, discoverPlugins } from "../../../services/transfer/plugins/index.js";

const { plugins } = await discoverPlugins([defaultFormatsDir()]);
const data = join(import.meta.dirname, "../../../../shared/data");
const head = (bytes: Uint8Array | string) => (typeof bytes === "string" ? Buffer.from(bytes) : bytes).subarray(0, DETECTION_PEEK);
const file = (path: string) => head(readFileSync(join(data, path)));
const choose = (bytes: Uint8Array | string, name?: string) => chooseFormat(head(bytes), name, plugins);

describe("an upload that names no format", () => {
  it("is read as xlsx when it is an XLSX workbook, whatever its name says", () => {
    expect(choose(file("spreadsheets-calamine/temperature.xlsx"), "temperature.xlsx")).toEqual({ format: "xlsx", chosenBy: "content: an XLSX workbook" });
    expect(choose(file("spreadsheets-calamine/temperature.xlsx"), "users.csv")).toEqual({ format: "xlsx", chosenBy: "content: an XLSX workbook, although the file name ends in .csv" });
    expect(choose(file("spreadsheets-calamine/date_1904.xlsx"))).toMatchObject({ format: "xlsx" });
  });

  it("is read as ods when it is an OpenDocument spreadsheet", () => {
    for (const name of ["any_sheets.ods", "covered.ods", "date.ods"])
      expect(choose(file(`spreadsheets-calamine/${name}`), undefined)).toEqual({ format: "ods", chosenBy: "content: an ODS spreadsheet" });
  });

  it("follows the file name's extension for text formats a reader claims", () => {
    expect(choose(file("oulad/courses.csv"), "courses.csv")).toEqual({ format: "csv", chosenBy: "file name: .csv" });
    expect(choose("a\tb\n1\t2\n", "grades.TSV")).toEqual({ format: "csv", chosenBy: "file name: .tsv" });
    expect(choose('{"email":"a@example.org"}\n', "users.jsonl")).toEqual({ format: "ndjson", chosenBy: "file name: .jsonl" });
    expect(choose('[{"email":"a@example.org"}]', "C:\\exports\\users.json")).toEqual({ format: "json", chosenBy: "file name: .json" });
  });

  it("reads a JSON array as json and records per line as ndjson, past a byte order mark and white space", () => {
    expect(choose('\ufeff \n [{"code":"C1"}]')).toEqual({ format: "json", chosenBy: "content: starts with '[' (a JSON array)" });
    expect(choose('{"code":"C1"}\n{"code":"C2"}\n', "upload")).toEqual({ format: "ndjson", chosenBy: "content: starts with '{' (a JSON record per line)" });
    expect(choose(Buffer.from('\ufeff[{"code":"C1"}]', "utf16le"))).toMatchObject({ format: "json" });
  });

  it("reads any other text as CSV, whose reader sniffs the delimiter", () => {
    expect(choose(file("csv-spectrum/csvs/comma_in_quotes.csv"), "export")).toEqual({ format: "csv", chosenBy: "content: is text that is not JSON" });
    expect(choose(file("oulad/studentInfo.csv"))).toMatchObject({ format: "csv" });
    expect(choose(Buffer.from("\ufeffemail;name\n", "utf16le"))).toMatchObject({ format: "csv" });
    expect(choose("", "empty")).toEqual({ format: "csv", chosenBy: "content: is empty" });
  });

  it("is refused, naming what it looks like, when no loaded format reads it", () => {
    const refused = (bytes: Uint8Array | string, name: string | undefined, message: RegExp) => {
      expect(() => choose(bytes, name)).toThrow(TransferSettingsError);
      expect(() => choose(bytes, name)).toThrow(message);
    };
    refused(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]), "users.csv.gz", /looks like a gzip-compressed file \(the file is named "users.csv.gz"\), which no loaded format reads/);
    refused(Buffer.from("%PDF-1.7\n"), undefined, /looks like a PDF document/);
    refused(Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), "old.xls", /an old-style Office file/);
    refused(Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from("....users.csv")]), "bundle.zip", /looks like a ZIP archive/);
    refused("<!doctype html><table>", "users.html", /starts with '<' \(HTML or XML\)/);
  });

  it("is refused when its name says workbook and its bytes are not one", () => {
    expect(() => choose("email,name\n", "users.xlsx")).toThrow(/named "users.xlsx" but its first bytes are not a xlsx file/);
    expect(() => choose("email,name\n", "users.ods")).toThrow(/not a ods file/);
  });

  it("says why the format it names is not available when no plugin reads it", () => {
    const onlyCsv = new Map([...plugins].filter(([name]) => name === "csv"));
    expect(() => chooseFormat(head("[1]"), undefined, onlyCsv)).toThrow(/no loaded format named json reads/);
  });
});

describe("an upload that names a format", () => {
  const csv = plugins.get("csv")!;
  it("is refused when its name and content both say JSON and it is sent as csv", () => {
    expect(() => checkNamedFormat(head('[{"email":"a@example.org"}]'), "users.json", csv, plugins)).toThrow(
      "the file \"users.json\" starts with '[' and looks like json, not a csv file (format=csv); upload it with format=json, or without format to have it chosen",
    );
    expect(() => checkNamedFormat(head('{"email":"a@example.org"}\n'), "users.ndjson", csv, plugins)).toThrow(/looks like ndjson/);
  });

  it("goes to the named reader otherwise", () => {
    expect(() => checkNamedFormat(head("email\n"), "users.json", csv, plugins)).not.toThrow();
    expect(() => checkNamedFormat(head("[x]\n"), "users.txt", csv, plugins)).not.toThrow();
    expect(() => checkNamedFormat(head('[{"a":1}]'), "users.json", plugins.get("ndjson")!, plugins)).not.toThrow();
    expect(() => checkNamedFormat(head('[{"a":1}]'), undefined, csv, plugins)).not.toThrow();
  });
});

describe("the first bytes of an upload", () => {
  it("are looked at without losing or reordering any chunk, however small", async () => {
    const bytes = readFileSync(join(data, "spreadsheets-calamine/temperature.xlsx"));
    const chunks = [...Array(bytes.length).keys()].map((i) => bytes.subarray(i, i + 1));
    const peeked = await peekHead(
      (async function* () {
        yield* chunks;
      })(),
      DETECTION_PEEK,
    );
    expect(Buffer.from(peeked.head)).toEqual(bytes.subarray(0, DETECTION_PEEK));
    const again: Uint8Array[] = [];
    for await (const chunk of peeked.input) again.push(chunk);
    expect(Buffer.concat(again)).toEqual(bytes);
    expect(again).toHaveLength(chunks.length);
  });

  it("are the whole file when it is shorter, and nothing when it is empty", async () => {
    const short = await peekHead(
      (async function* () {
        yield Buffer.from("a,b");
      })(),
      DETECTION_PEEK,
    );
    expect(Buffer.from(short.head).toString()).toBe("a,b");
    const empty = await peekHead((async function* () {})(), DETECTION_PEEK);
    expect(empty.head).toHaveLength(0);
    for await (const _ of empty.input) throw new Error("an empty upload has no chunk");
  });
});

it("takes a file name's extension case-insensitively, after its folders", () => {
  expect([extensionOf("a/b/Users.CSV"), extensionOf("C:\\x\\y.Json"), extensionOf(".hidden"), extensionOf("noext"), extensionOf("trailing."), extensionOf(undefined)]).toEqual([
    "csv",
    "json",
    undefined,
    undefined,
    undefined,
    undefined,
  ]);
});
