/**
 * The file's header is checked whole before a row is written: a mapping that
 * names a column the file does not have, and a column that is neither mapped
 * nor a field, stop the import with every problem named — never an import of
 * empty names with zero errors. Real-world-shaped files: test/fixtures/real-world.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { importAll, importSettings, openRecords, plugin, users, type RecordsFixture } from "./support.js";

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/real-world/${name}`, import.meta.url));
const moodle = fixture("moodle-upload-users.csv");
const canvas = fixture("canvas-sis-users.csv");

let fx: RecordsFixture;
beforeAll(async () => {
  fx = await openRecords("header_checks");
});
afterAll(async () => {
  await fx?.close();
});
beforeEach(async () => {
  await fx.clear();
});

describe("a mapping that names columns the file does not have", () => {
  const wrong = [
    { source: "first_name", field: "firstName" },
    { source: "last_name", field: "lastName" },
  ];

  it.each([false, true])("is refused before anything is written (dry run: %s), naming every missing column, what it probably meant and the file's columns", async (dryRun) => {
    const { summary, errors } = await importAll(fx, moodle, importSettings("users", await plugin("csv"), { mapping: wrong, dryRun }));
    expect(summary).toMatchObject({ read: 0, inserted: 0, failed: 0, stopped: { code: "invalid", at: "header", line: 1, setting: "mapping[0].source" } });
    expect(errors.map((e) => ({ row: e.row, line: e.line, column: e.column }))).toEqual([
      { row: 0, line: 1, column: "first_name" },
      { row: 0, line: 1, column: "last_name" },
      // …while the file's own columns name those fields too (by key, ignoring case):
      { row: 0, line: 1, column: "firstname" },
      { row: 0, line: 1, column: "lastname" },
    ]);
    expect(errors[2]!.reason).toContain('column "firstname" gives firstName, which mapping[0] (column "first_name") gives too');
    expect(errors[0]!.reason).toBe('"first_name" is not a column of the file (did you mean "firstname"?)');
    expect(summary.stopped!.reason).toContain('the file\'s columns: "username", "firstname", "lastname", "email"');
    expect(await fx.count("users")).toBe(0);
  });

  it("imports the Moodle upload with its own column names mapped, and its known columns matched by name", async () => {
    const mapping = [
      { source: "firstname", field: "firstName" },
      { source: "lastname", field: "lastName" },
    ];
    const { summary, errors } = await importAll(fx, moodle, importSettings("users", await plugin("csv"), { mapping }));
    expect(errors).toEqual([]);
    expect(summary).toMatchObject({ read: 4, inserted: 4, failed: 0 });
    expect((await fx.readAll("users")).map((u) => `${u.firstName} ${u.lastName}`)).toEqual(["Björk Lindqvist", "François O'Brien", "José García", "Zoë Müller"]);
  });

  it("refuses a template that reads a column the file does not have", async () => {
    const mapping = [
      { source: "username", field: "username" },
      { source: "email", field: "email" },
      { source: "firstname", field: "firstName", transforms: [{ kind: "template" as const, value: "{firstname} {middle_name}" }] },
      { source: "lastname", ignore: true },
    ];
    const { summary, errors } = await importAll(fx, moodle, importSettings("users", await plugin("csv"), { mapping }));
    expect(summary.stopped).toMatchObject({ at: "header", setting: "mapping[2].transforms" });
    expect(errors[0]!.reason).toContain('"middle_name"');
  });

  it("imports with an entry that has no source and builds its value from columns a template reads", async () => {
    // The shape of OULAD's courses.csv: the course's key is two columns, neither of them a field.
    const csv = "code_module,code_presentation,title\r\nAAA,2013J,Module AAA\r\nBBB,2014B,Module BBB\r\n";
    const mapping = [{ field: "code", transforms: [{ kind: "template" as const, value: "{code_module}-{code_presentation}" }] }];
    const { summary, errors } = await importAll(fx, csv, importSettings("courses", await plugin("csv"), { mapping }));
    expect(errors).toEqual([]);
    expect(summary).toMatchObject({ read: 2, inserted: 2, failed: 0 });
    expect((await fx.readAll("courses")).map((c) => c.code).sort()).toEqual(["AAA-2013J", "BBB-2014B"]);
  });

  it("refuses a file column that gives the field an entry without a source gives too, naming both", async () => {
    const mapping = [{ field: "username", transforms: [{ kind: "template" as const, value: "moodle.{email}" }] }];
    const { summary, errors } = await importAll(fx, moodle, importSettings("users", await plugin("csv"), { mapping }));
    expect(summary).toMatchObject({ read: 0, inserted: 0, stopped: { code: "invalid", at: "header" } });
    expect(errors.map((e) => e.reason)).toContain(
      'column "username" gives username, which mapping[0] (its transforms) gives too; map one of them elsewhere or ignore it ({"source":"username","ignore":true})',
    );
    expect(await fx.count("users")).toBe(0);
  });

  it("refuses, in a JSON file, a mapped key that no record has, and nothing is written", async () => {
    const json = JSON.stringify(users(1, 3).map(({ firstName, ...u }) => ({ ...u, first_name: firstName })));
    const { summary } = await importAll(
      fx,
      json,
      importSettings("users", await plugin("json"), {
        mapping: [
          { source: "firstname", field: "firstName" },
          { source: "first_name", ignore: true },
        ],
      }),
    );
    expect(summary.stopped).toMatchObject({ code: "invalid", at: "header" });
    expect(summary.stopped!.reason).toContain('"firstname" appears in no record of the file');
    expect(await fx.count("users")).toBe(0);
  });

  it("accepts, in a JSON file, a mapped key that only a later record has", async () => {
    const rows = users(1, 3).map(({ firstName: _f, ...u }, i) => (i === 2 ? { ...u, given: "Cy" } : u));
    const { summary, errors } = await importAll(fx, JSON.stringify(rows), importSettings("users", await plugin("json"), { mapping: [{ source: "given", field: "firstName" }] }));
    expect(errors).toEqual([]);
    expect(summary).toMatchObject({ read: 3, inserted: 3 });
  });
});

describe("columns that are neither mapped nor fields", () => {
  it("are found in the header even when the first row leaves them empty", async () => {
    const csv = "email,username,phone\r\na@example.org,a,\r\nb@example.org,b,555-0100\r\n";
    const { summary, errors } = await importAll(fx, csv, importSettings("users", await plugin("csv")));
    expect(summary).toMatchObject({ read: 0, inserted: 0, stopped: { code: "invalid", at: "header" } });
    expect(errors).toMatchObject([{ row: 0, line: 1, column: "phone" }]);
    expect(await fx.count("users")).toBe(0);
  });

  it("suggest the field a header cell was probably meant to name", async () => {
    const csv = "email,user_name,first_name\r\na@example.org,a,Ann\r\n";
    const { errors } = await importAll(fx, csv, importSettings("users", await plugin("csv")));
    expect(errors[0]!.reason).toContain('"user_name" (did you mean "username" or "Username"?)');
    expect(errors[0]!.reason).toContain('"first_name" (did you mean "firstName" or "First name"?)');
  });

  it("stop a Canvas SIS users.csv until the mapping says what to do with them, then import it", async () => {
    const mapping = [
      { source: "login_id", field: "username" },
      { source: "first_name", field: "firstName" },
      { source: "last_name", field: "lastName" },
    ];
    const refused = await importAll(fx, canvas, importSettings("users", await plugin("csv"), { mapping }));
    expect(refused.summary.stopped).toMatchObject({ at: "header" });
    expect(refused.errors[0]!.column).toBe("user_id,full_name,sortable_name,short_name");
    const { summary, errors } = await importAll(fx, canvas, importSettings("users", await plugin("csv"), { mapping: [...mapping, { source: "*", ignore: true }] }));
    // Canvas' "deleted" is not a status here: that row is rejected, by name.
    expect(errors.map((e) => ({ row: e.row, column: e.column }))).toEqual([{ row: 3, column: "status" }]);
    expect(summary).toMatchObject({ read: 3, inserted: 2, failed: 1 });
  });

  it("refuse two columns that give the same field", async () => {
    const csv = "email,Email address,username\r\na@example.org,b@example.org,a\r\n";
    const { summary, errors } = await importAll(fx, csv, importSettings("users", await plugin("csv")));
    expect(summary.stopped).toMatchObject({ at: "header" });
    expect(errors[0]!.reason).toContain('column "Email address" gives email, which column "email" gives too');
  });

  it("let a failed-rows file's own columns (_row, _line, _errors) through", async () => {
    const csv = "email,username,_row,_line,_errors\r\na@example.org,a,3,4,email: was wrong\r\n";
    const { summary, errors } = await importAll(fx, csv, importSettings("users", await plugin("csv")));
    expect(errors).toEqual([]);
    expect(summary).toMatchObject({ read: 1, inserted: 1 });
  });
});

describe("files with no header, or a broken one", () => {
  it.each([
    ["csv", ""],
    ["csv", "\r\n\r\n"],
    ["json", ""],
  ])("refuses an empty %s file as a whole instead of a 0-row success", async (format, input) => {
    const { summary } = await importAll(fx, input, importSettings("users", await plugin(format)));
    expect(summary.stopped?.code).toBe("format");
    expect(summary.stopped?.reason).toMatch(format === "csv" ? /the file has no header row/ : /the file is empty/);
    expect(summary.stopped?.row).toBeUndefined();
  });

  it("names the header's line, not row 1, for a header that names a column twice", async () => {
    const { summary, errors } = await importAll(fx, "email,username,email\r\na@example.org,a,b@example.org\r\n", importSettings("users", await plugin("csv")));
    expect(summary.stopped).toMatchObject({ code: "format", line: 1 });
    expect(summary.stopped?.row).toBeUndefined();
    expect(errors).toMatchObject([{ row: 0, line: 1, column: "email" }]);
  });

  it("gives JSON row errors the line where the element starts", async () => {
    const json = JSON.stringify([...users(1, 1), { email: "not an email", username: "x" }, 5], null, 2);
    const { errors } = await importAll(fx, json, importSettings("users", await plugin("json")));
    expect(errors.map((e) => ({ row: e.row, line: e.line }))).toEqual([
      { row: 2, line: 10 },
      { row: 3, line: 14 },
    ]);
  });
});

describe("a file that is not UTF-8", () => {
  const moodle1252 = fixture("moodle-upload-users-windows-1252.csv");
  const mapping = [
    { source: "firstname", field: "firstName" },
    { source: "lastname", field: "lastName" },
  ];

  it("is refused where its first bad byte is, naming the encoding it looks like, and nothing is written", async () => {
    const { summary } = await importAll(fx, moodle1252, importSettings("users", await plugin("csv"), { mapping }));
    expect(summary.stopped).toMatchObject({ code: "format", line: 2 });
    expect(summary.stopped?.reason).toContain("windows-1252");
    expect(summary.encoding).toEqual({ name: "utf-8", source: "default" });
    expect(await fx.count("users")).toBe(0);
  });

  it("imports with encoding auto, every name intact, and the summary says what was detected and how sure", async () => {
    const { summary, errors } = await importAll(fx, moodle1252, importSettings("users", await plugin("csv"), { mapping, pluginOptions: { encoding: "auto" } }));
    expect(errors).toEqual([]);
    expect(summary).toMatchObject({ read: 4, inserted: 4, encoding: { name: "windows-1252", source: "detected" } });
    expect(summary.encoding?.confidence).toBeGreaterThan(0);
    expect((await fx.readAll("users")).map((u) => u.lastName)).toContain("O’Brien");
    expect(JSON.stringify(await fx.readAll("users"))).not.toContain("\uFFFD");
  });
});

describe("a workbook or any ZIP uploaded as a text format", () => {
  const sheets = new URL("../../../../shared/data/spreadsheets-calamine/", import.meta.url);
  it.each([
    ["csv", "temperature.xlsx", /this looks like an XLSX workbook, not a csv file \(format=csv\); upload it with format=xlsx/],
    ["json", "any_sheets.xlsx", /this looks like an XLSX workbook, not a json file \(format=json\); upload it with format=xlsx/],
    ["csv", "any_sheets.ods", /this looks like an ODS spreadsheet, not a csv file \(format=csv\); upload it with format=ods/],
    ["ndjson", "date.ods", /this looks like an ODS spreadsheet, not a ndjson file/],
  ])("is refused as %s before a byte reaches the reader (%s)", async (format, file, message) => {
    const bytes = readFileSync(new URL(file, sheets));
    for (const chunkSize of [undefined, 3]) {
      const { summary, errors } = await importAll(fx, bytes, importSettings("users", await plugin(format)), { chunkSize });
      expect(summary.stopped?.code).toBe("format");
      expect(summary.stopped?.reason).toMatch(message);
      expect(errors).toHaveLength(1);
      expect(summary.read).toBe(0);
    }
  });

  it("refuses a plain ZIP archive too", async () => {
    const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from("\u0014\u0000\u0000\u0000users.csv email,username\n")]);
    const { summary } = await importAll(fx, zip, importSettings("users", await plugin("csv")));
    expect(summary.stopped?.reason).toContain("this looks like a ZIP archive");
  });
});
