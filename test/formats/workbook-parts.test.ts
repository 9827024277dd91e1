/**
 * Multi-part writes (a bundle export's workbook): XLSX and ODS write a sheet
 * per part, named after its entity, each with its own columns, header and
 * row limit, from one rows stream where an empty batch ends a part.
 */
import { strFromU8, unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import type { Column, FormatPlugin, Row, WritePart } from "../../formats/_sdk/index.js";
import ods from "../../formats/ods/index.js";
import xlsx from "../../formats/xlsx/index.js";
import { readAll, values } from "./support.js";

const userColumns: Column[] = [
  { key: "email", label: "Email", type: "string" },
  { key: "age", label: "Age", type: "number" },
];
const courseColumns: Column[] = [
  { key: "code", label: "Code", type: "string" },
  { key: "open", label: "Open", type: "boolean" },
  { key: "starts", label: "Starts", type: "timestamp" },
];
const parts: WritePart[] = [
  { columns: userColumns, source: { entity: "users" } },
  { columns: courseColumns, source: { entity: "courses" } },
  { columns: userColumns, source: { entity: "staff" } },
];

/** The parts' rows as one stream: each part's batches (of 2), an empty batch between parts. */
async function* stream(rows: Row[][]): AsyncGenerator<Row[]> {
  for (const [i, part] of rows.entries()) {
    if (i > 0) yield [];
    for (let j = 0; j < part.length; j += 2) yield part.slice(j, j + 2);
  }
}

async function write(plugin: FormatPlugin, rows: Row[][], options: Record<string, unknown> = {}): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  for await (const c of plugin.write!(stream(rows), { columns: userColumns, options: plugin.options.parse(options), useLabels: true, source: parts[0]!.source, parts })) out.push(c);
  return Buffer.concat(out);
}

const users = [1, 2, 3].map((n) => ({ email: `u${n}@example.org`, age: 20 + n }));
const courses = [{ code: "C1", open: true, starts: new Date("2024-09-01T08:00:00.000Z") }];

describe.each([xlsx, ods])("a $name workbook of several parts", (plugin) => {
  it("has a sheet per part, named after its entity, each with its own header and rows", async () => {
    const bytes = await write(plugin, [users, courses, []]);
    expect(values(await readAll(plugin, bytes, { columns: userColumns, options: { sheet: "users" } }))).toEqual(users);
    const read = await readAll(plugin, bytes, { columns: courseColumns, options: { sheet: "courses" } });
    expect(read.header?.names).toEqual(["code", "open", "starts"]);
    expect(read.rows.map((r) => r.values.code)).toEqual(["C1"]);
    // An empty part is still a sheet, with its header.
    const staff = await readAll(plugin, bytes, { columns: userColumns, options: { sheet: "staff" } });
    expect(staff.header?.names).toEqual(["email", "age"]);
    expect(staff.rows).toEqual([]);
  });

  it("lists the sheets in part order, a part past the row limit going on on its own '(2)' sheet", async () => {
    const bytes = await write(plugin, [users, courses, users], { rowsPerSheet: 3 });
    const files = Object.fromEntries(Object.entries(unzipSync(bytes)).map(([k, v]) => [k, strFromU8(v)]));
    const listed = plugin.name === "xlsx" ? files["xl/workbook.xml"]! : files["content.xml"]!;
    const names = [...listed.matchAll(plugin.name === "xlsx" ? /<sheet name="([^"]+)"/g : /<table:table table:name="([^"]+)"/g)].map((m) => m[1]);
    expect(names).toEqual(["users", "users (2)", "courses", "staff", "staff (2)"]);
    expect(values(await readAll(plugin, bytes, { columns: userColumns, options: { sheet: "staff (2)" } }))).toEqual([users[2]]);
  });

  it("declares that it writes several parts", () => {
    expect(plugin.multiPart).toBe(true);
  });
});
