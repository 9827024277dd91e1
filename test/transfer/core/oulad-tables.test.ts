/**
 * The real OULAD tables, imported as the files are (quoted CSV, CRLF), through
 * the import pipeline with template mappings that build our keys from their
 * columns: courses.csv → courses, studentInfo.csv → users, and
 * studentRegistration.csv → enrollments, with exact counts. The rows are those
 * of modules AAA and GGG (about 3,300 students; the same subset the seed test
 * uses) to keep the suite quick on FerretDB.
 */
import { createReadStream, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FieldMapping } from "../../../services/transfer/core/index.js";
import { makeOuladSubset } from "../../seed/oulad-subset.js";
import { importAll, importSettings, openRecords, plugin, type RecordsFixture } from "./support.js";

const OULAD = resolve(import.meta.dirname, "../../../../shared/data/oulad");
let dir: string;
let fx: RecordsFixture;

function rows(file: string): Record<string, string>[] {
  return parse(readFileSync(join(dir, file)), { columns: true, bom: true });
}

async function importFile(entity: "courses" | "users" | "enrollments", file: string, mapping: FieldMapping[]) {
  const csv = await plugin("csv");
  return importAll(fx, createReadStream(join(dir, file)), importSettings(entity, csv, { mapping, mode: "insert" }));
}

const template = (value: string) => ({ kind: "template" as const, value });

beforeAll(async () => {
  dir = makeOuladSubset(OULAD, ["AAA", "GGG"]);
  fx = await openRecords("oulad_tables");
});
afterAll(async () => {
  await fx?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the OULAD tables imported as they are", () => {
  it("imports courses.csv with the course code built from module and presentation", async () => {
    const { summary, errors } = await importFile("courses", "courses.csv", [
      { source: "code_module", field: "code", transforms: [template("{code_module}-{code_presentation}")] },
      { source: "code_module", field: "title", transforms: [template("Module {code_module}, presentation {code_presentation}")] },
      { source: "code_module", field: "category" },
      { source: "module_presentation_length", ignore: true },
    ]);
    const expected = rows("courses.csv").length;
    expect(errors).toEqual([]);
    expect(summary).toMatchObject({ read: expected, inserted: expected, failed: 0 });
    expect(await fx.count("courses")).toBe(expected);
  });

  it("imports studentInfo.csv as users, reporting each student listed again as an in-file duplicate", async () => {
    const info = rows("studentInfo.csv");
    const distinct = new Set(info.map((r) => r.id_student)).size;
    const { summary, errors } = await importFile("users", "studentInfo.csv", [
      { source: "id_student", field: "username", transforms: [template("s{id_student}")] },
      { source: "id_student", field: "email", transforms: [template("s{id_student}@students.oulad.example")] },
      // The demographic columns have no field here: left out, on purpose.
      { source: "*", ignore: true },
    ]);
    expect(summary).toMatchObject({ read: info.length, inserted: distinct, failed: info.length - distinct });
    expect(errors).toHaveLength(info.length - distinct);
    expect(errors.every((e) => e.code === "duplicate_in_file")).toBe(true);
    expect(await fx.count("users")).toBe(distinct);
  });

  it("imports studentRegistration.csv as enrollments whose references all resolve", async () => {
    const registrations = rows("studentRegistration.csv");
    const { summary, errors } = await importFile("enrollments", "studentRegistration.csv", [
      { source: "id_student", field: "userId", transforms: [template("s{id_student}")] },
      { source: "code_module", field: "courseId", transforms: [template("{code_module}-{code_presentation}")] },
      { source: "date_registration", ignore: true },
      { source: "date_unregistration", ignore: true },
    ]);
    expect(errors).toEqual([]);
    expect(summary).toMatchObject({ read: registrations.length, inserted: registrations.length, failed: 0 });
    expect(await fx.count("enrollments")).toBe(registrations.length);
  }, 300_000);

  it("rejects a row whose template column is empty, naming the column", async () => {
    const csv = await plugin("csv");
    const { summary, errors } = await importAll(
      fx,
      'code_module,code_presentation\r\nZZZ,2020J\r\nYYY,""\r\n',
      importSettings("courses", csv, {
        mode: "insert",
        mapping: [
          { source: "code_module", field: "code", transforms: [template("{code_module}-{code_presentation}")] },
          { source: "code_module", field: "title", transforms: [template("Module {code_module}")] },
        ],
      }),
    );
    expect(summary).toMatchObject({ read: 2, inserted: 1, failed: 1 });
    expect(errors[0]).toMatchObject({ row: 2, reason: 'the template needs column "code_presentation", which is empty' });
  });
});
