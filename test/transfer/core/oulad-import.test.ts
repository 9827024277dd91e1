/**
 * Imports of the real OULAD tables (Open University Learning Analytics
 * Dataset, /work/shared/data/oulad): files from another system, imported
 * through mappings, with exact counts.
 */
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { chunked, importAll, importSettings, openRecords, plugin, usersCsv, type RecordsFixture } from "./support.js";

const OULAD = "/work/shared/data/oulad";

let fx: RecordsFixture;

beforeAll(async () => {
  fx = await openRecords("import_oulad");
});
afterAll(async () => fx?.close());
beforeEach(async () => fx.clear());

/** The first `n` data rows of studentInfo.csv as { id_student, gender, region, … }. */
async function studentInfo(n: number): Promise<Record<string, string>[]> {
  const lines = createInterface({ input: createReadStream(`${OULAD}/studentInfo.csv`), crlfDelay: Infinity });
  const parse = (line: string) => line.replace(/^"|"$/g, "").split('","');
  let header: string[] | undefined;
  const rows: Record<string, string>[] = [];
  for await (const line of lines) {
    if (header === undefined) {
      header = parse(line);
      continue;
    }
    const cells = parse(line);
    rows.push(Object.fromEntries(header.map((h, i) => [h, cells[i]!])));
    if (rows.length === n) break;
  }
  lines.close();
  return rows;
}

describe("OULAD students as users", () => {
  it("imports 2,000 rows derived from studentInfo.csv, rejecting students listed twice as in-file duplicates", async () => {
    const students = await studentInfo(2000);
    expect(students).toHaveLength(2000);
    const rows = students.map((s) => ({
      email: `s${s.id_student}@students.oulad.example`,
      username: `oulad-${s.id_student}`,
      firstName: "Student",
      lastName: s.id_student,
      role: "student",
      status: s.final_result === "Withdrawn" ? "suspended" : "active",
    }));
    const firstRowOf = new Map<string, number>();
    const repeats: { row: number; first: number }[] = [];
    students.forEach((s, i) => {
      const id = s.id_student!;
      const first = firstRowOf.get(id);
      if (first === undefined) firstRowOf.set(id, i + 1);
      else repeats.push({ row: i + 1, first });
    });
    expect(firstRowOf.size).toBe(1964); // the dataset lists 36 of these students in two presentations

    const { summary, errors } = await importAll(fx, usersCsv(rows), importSettings("users", await plugin("csv"), { strict: false }));
    expect(errors.map((e) => ({ row: e.row, column: e.column, code: e.code }))).toEqual(repeats.map((r) => ({ row: r.row, column: "email", code: "duplicate_in_file" })));
    expect(errors.map((e) => e.reason)).toEqual(repeats.map((r) => expect.stringContaining(`row ${r.first}`)));
    expect(summary).toMatchObject({ read: 2000, inserted: 1964, updated: 0, unchanged: 0, skipped: 0, failed: 36, strictAborted: false });
    expect(await fx.count("users")).toBe(1964);
    expect(await fx.count("users")).toBe(await fx.db.collection("users").countDocuments({ email: /@students\.oulad\.example$/ }));
  });
});

describe("OULAD courses.csv", () => {
  const mapping = [
    { source: "code_module", field: "code" },
    { source: "code_presentation", field: "category" },
    { source: "module_presentation_length", field: "description" },
    { field: "title", transforms: [{ kind: "default" as const, value: "OULAD module" }] },
  ];

  it("imports the file as it is through a mapping with a default title; each module's later presentations are in-file duplicates", async () => {
    const file = await readFile(`${OULAD}/courses.csv`);
    const { summary, errors } = await importAll(fx, chunked(file, 2), importSettings("courses", await plugin("csv"), { mapping }));
    expect(summary).toMatchObject({ read: 22, inserted: 7, failed: 15, strictAborted: false });
    expect(errors.every((e) => e.code === "duplicate_in_file" && e.column === "code_module")).toBe(true);
    // Expected from the file itself: the first row of each module wins.
    const rows = file
      .toString("utf8")
      .trim()
      .split(/\r?\n/)
      .slice(1)
      .map((l) => l.replaceAll('"', "").split(","));
    const first = new Map<string, string[]>();
    const later: number[] = [];
    rows.forEach((r, i) => (first.has(r[0]!) ? later.push(i + 1) : first.set(r[0]!, r)));
    expect(errors.map((e) => e.row)).toEqual(later);
    expect((await fx.readAll("courses")).map(({ updatedAt: _u, ...course }) => course)).toEqual(
      [...first.values()].map(([code, presentation, length]) => ({ code, title: "OULAD module", category: presentation, description: length, visible: true })),
    );
  });

  it("refuses the whole file in strict mode for the same duplicates", async () => {
    const file = await readFile(`${OULAD}/courses.csv`);
    const { summary } = await importAll(fx, file, importSettings("courses", await plugin("csv"), { mapping, strict: true }));
    expect(summary).toMatchObject({ read: 22, inserted: 0, failed: 15, strictAborted: true });
    expect(await fx.count("courses")).toBe(0);
  });
});
