/**
 * XLSX, ODS and HTML through a real transfer service (port 0, real FerretDB
 * behind the records service), the ways people use it: gRPC and Connect
 * clients exporting and importing workbooks, `GET /export/xlsx?entity=…`
 * and `POST /import` with an .xlsx as curl and browsers send them. The
 * spreadsheet plugins run in format workers here, their default.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Entity, WriteMode } from "../../gen/dataexchange/records/v1/records_pb.js";
import { JobState } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { Code } from "@connectrpc/connect";
import { activityRecord, fromArray } from "../records/fixtures.js";
import ods from "../../formats/ods/index.js";
import xlsx from "../../formats/xlsx/index.js";
import type { FormatPlugin } from "../../formats/_sdk/index.js";
import { readAll, writeAll } from "../formats/support.js";
import { xlsxOf } from "../formats/spreadsheet-fixtures.js";
import { course, exportFile, importFile, seed, session, startServices, user, type Services } from "./rpc/harness.js";

let s: Services;

beforeAll(async () => {
  s = await startServices();
  await seed(
    s.recordsClient,
    Entity.USERS,
    Array.from({ length: 30 }, (_, i) => user(i)),
  );
  await seed(s.recordsClient, Entity.COURSES, [course("AAA-2024")]);
  await seed(
    s.recordsClient,
    Entity.SESSIONS,
    Array.from({ length: 5 }, (_, i) => session(`s${i}`, `user${i}`, "AAA-2024", { score: i + 0.5 })),
  );
});
afterAll(async () => s?.close());

describe.each([
  ["xlsx", xlsx],
  ["ods", ods],
] as const)("%s through the RPCs", (format, plugin: FormatPlugin) => {
  it("exports over gRPC a workbook whose sheet is named after the entity, with labels and typed cells", async () => {
    const result = await exportFile(s.client, { entity: Entity.SESSIONS, format, fields: ["sessionId", "startedAt", "score"] });
    expect(result.header.mimeType).toBe(plugin.mimeType);
    expect(result.header.fileName).toMatch(new RegExp(`^sessions-\\d{8}-\\d{6}\\.${format}$`));
    const read = await readAll(plugin, result.bytes, { options: { sheet: "sessions" } });
    expect(read.rows).toHaveLength(5);
    expect(read.rows[0]!.values).toEqual({ "Session id": "s0", "Started at": new Date("2024-02-01T10:00:00Z"), Score: 0.5 });
  });

  it("imports its own export back over Connect (JSON and binary), every row updated and none failed", async () => {
    const exported = await exportFile(s.connectBinary, { entity: Entity.USERS, format, fields: ["email", "username", "firstName", "createdAt"] });
    const result = await importFile(s.connectJson, { entity: Entity.USERS, format, mode: WriteMode.MERGE }, exported.bytes, { chunkSize: 4096 });
    expect(result.rowErrors).toEqual([]);
    const rows = (await readAll(plugin, exported.bytes)).rows.length;
    expect(rows).toBeGreaterThanOrEqual(30);
    expect(result.summary).toMatchObject({ read: BigInt(rows), failed: 0n, state: JobState.SUCCEEDED });
  });

  it("reports bad rows of an uploaded workbook with row and line, and imports the rest", async () => {
    const columns = [
      { key: "email", label: "Email", type: "string" as const },
      { key: "username", label: "Username", type: "string" as const },
    ];
    const file = await writeAll(
      plugin,
      [
        { email: `rpc-${format}@example.org`, username: `rpc-${format}` },
        { email: "not-an-email", username: `bad-${format}` },
      ],
      columns,
    );
    const result = await importFile(s.client, { entity: Entity.USERS, format, mode: WriteMode.INSERT }, file);
    expect(result.summary).toMatchObject({ read: 2n, inserted: 1n, failed: 1n });
    expect(result.rowErrors.map((e) => ({ row: e.row, line: e.line, column: e.column, value: e.value }))).toEqual([{ row: 2n, line: 3n, column: "Email", value: "not-an-email" }]);
  });
});

describe("the HTTP routes", () => {
  it("GET /export/xlsx?entity=users streams a workbook download", async () => {
    const res = await fetch(`${s.transfer.url}/export/xlsx?entity=users&fields=username,status&status=suspended&sort=username`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/vnd\.openxmlformats-officedocument\.spreadsheetml\.sheet/);
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="users-\d{8}-\d{6}\.xlsx"/);
    const read = await readAll(xlsx, new Uint8Array(await res.arrayBuffer()));
    expect(read.rows.map((r) => r.values)).toEqual([
      { Username: "user17", Status: "suspended" },
      { Username: "user27", Status: "suspended" },
      { Username: "user7", Status: "suspended" },
    ]);
  });

  it("POST /import takes an .xlsx with format=xlsx and names an error cell as Sheet!C7 in the row's reason", async () => {
    const head = `<row r="1"><c r="A1" t="inlineStr"><is><t>email</t></is></c><c r="B1" t="inlineStr"><is><t>username</t></is></c><c r="C1" t="inlineStr"><is><t>First name</t></is></c></row>`;
    const good = `<row r="2"><c r="A2" t="inlineStr"><is><t>http-x1@example.org</t></is></c><c r="B2" t="inlineStr"><is><t>http-x1</t></is></c></row>`;
    const broken = `<row r="7"><c r="A7" t="inlineStr"><is><t>http-x2@example.org</t></is></c><c r="B7" t="inlineStr"><is><t>http-x2</t></is></c><c r="C7" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>`;
    const form = new FormData();
    form.append("format", "xlsx");
    form.append("entity", "users");
    form.append("file", new Blob([xlsxOf(head + good + broken, { sheets: ["People"] })], { type: xlsx.mimeType }), "people.xlsx");
    const res = await fetch(`${s.transfer.url}/import`, { method: "POST", body: form });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { errors: { row: number; line: number; column: string; reason: string }[] } & Record<string, unknown>;
    expect(body).toMatchObject({ state: "succeeded", read: 2, inserted: 1, failed: 1 });
    expect(body.errors).toEqual([expect.objectContaining({ row: 2, line: 7, reason: expect.stringContaining("cell People!C7 holds the error #DIV/0!") })]);
  });

  it("GET /export/html?entity=users answers a page whose caption names the entity and the filter", async () => {
    const res = await fetch(`${s.transfer.url}/export/html?entity=users&fields=username&status=suspended&sort=username`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const page = await res.text();
    expect(page).toMatch(/<caption>users <span class="filter">filter: .*suspended.*<\/span><\/caption>/);
    expect(page).toContain("<td>user17</td>");
    expect(page).toContain('<p class="count">3 rows</p>');
  });

  it("refuses an .xlsx sent as format=ods, and an option value out of range", async () => {
    const form = new FormData();
    form.append("format", "ods");
    form.append("entity", "users");
    form.append("file", new Blob([xlsxOf("")]), "people.xlsx");
    const res = await fetch(`${s.transfer.url}/import`, { method: "POST", body: form });
    const body = (await res.json()) as Record<string, unknown>;
    expect(JSON.stringify(body)).toContain("this looks like an XLSX workbook, not a ods file (format=ods); upload it with format=xlsx");
    const bad = await fetch(`${s.transfer.url}/export/xlsx?entity=users&options=${encodeURIComponent('{"rowsPerSheet":1}')}`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("rowsPerSheet");
  });
});

describe("a text longer than an Excel cell holds", () => {
  const long = "long-activities";
  beforeAll(async () => {
    await seed(s.recordsClient, Entity.SESSIONS, [session(long, "user1", "AAA-2024")]);
    // Three entries of 12,000-character notes: the joined list is about 36,500 characters of JSON text.
    const records = [1, 2, 3].map((n) => activityRecord("user1", { sessionId: long, action: "note", details: { text: String(n).repeat(12_000) } }));
    for await (const r of s.recordsClient.writeRecords(fromArray([{ entity: Entity.ACTIVITY, mode: WriteMode.INSERT, batchId: "notes", records }]))) expect(r.inserted).toBe(3);
  });

  it("fails an XLSX export naming the record, the column and the cell, over gRPC and over HTTP", async () => {
    const request = { entity: Entity.SESSIONS, format: "xlsx", fields: ["sessionId", "activities"], filter: { keys: [{ parts: [long] }] } };
    const failure = await exportFile(s.client, request).catch((e: unknown) => e);
    expect(failure).toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: expect.stringMatching(
        /^the file cannot be written: a text of 365\d\d characters in cell B2 of sheet "sessions" is longer than the 32767 an Excel cell holds .*export as ODS, CSV or JSON to keep it whole \(at row 1, column "activities"\)$/,
      ),
    });
    const res = await fetch(`${s.transfer.url}/export/xlsx?entity=sessions&fields=sessionId,activities&session_id=${long}`);
    // A file this small fails before its first byte is sent: an answer of its own, not a cut-off download.
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/^the file cannot be written: a text of 365\d\d characters in cell B2 /) });
  });

  it("exports the same text whole to ODS", async () => {
    const result = await exportFile(s.client, { entity: Entity.SESSIONS, format: "ods", fields: ["sessionId", "activities"], filter: { keys: [{ parts: [long] }] } });
    const [row] = (await readAll(ods, result.bytes)).rows;
    const activities = JSON.parse(String(row!.values.Activities)) as { details: { text: string } }[];
    expect(activities.map((a) => a.details.text.length)).toEqual([12_000, 12_000, 12_000]);
  });
});
