/**
 * The plain HTTP/1.1 routes on the transfer service's port, called the way
 * curl and browsers call them (Node's fetch speaks HTTP/1.1; uploads are
 * FormData, i.e. multipart/form-data).
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Entity } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { course, seed, startServices, user, type Services } from "../rpc/harness.js";

let s: Services;
let small: Services;

beforeAll(async () => {
  s = await startServices();
  small = await startServices({ config: { importMaxFileMb: 0.01 } });
  await seed(
    s.recordsClient,
    Entity.USERS,
    Array.from({ length: 30 }, (_, i) => user(i)),
  );
  await seed(s.recordsClient, Entity.COURSES, ["AAA-2024", "BBB-2024"].map(course));
});
afterAll(async () => {
  await s?.close();
  await small?.close();
});

function upload(fields: Record<string, string>, file: string, fileName = "upload.csv"): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append("file", new Blob([file], { type: "text/csv" }), fileName);
  return form;
}

describe("GET /export/{format}", () => {
  it("streams a CSV download with its content type, file name and job id", async () => {
    const res = await fetch(`${s.transfer.url}/export/csv?entity=users&fields=username,status&status=active&sort=-username&limit=3`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="users-\d{8}-\d{6}\.csv"/);
    const body = await res.text();
    expect(body.trim().split("\r\n")).toEqual(["Username,Status", "user9,active", "user8,active", "user6,active"]);
    const job = (await (await fetch(`${s.transfer.url}/jobs/${res.headers.get("x-job-id")}`)).json()) as Record<string, unknown>;
    expect(job).toMatchObject({ kind: "export", state: "succeeded", entity: "users", format: "csv", counts: { exported: 3 }, fields: ["username", "status"], limit: 3 });
    expect(job.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("labels text downloads utf-8 and leaves the spreadsheets' types bare: an XLSX names XML twice and is a ZIP", async () => {
    const types: Record<string, string | null> = {};
    for (const format of ["xlsx", "ods", "html", "markdown"]) {
      const res = await fetch(`${s.transfer.url}/export/${format}?entity=users&fields=username&limit=1`);
      expect(res.status, format).toBe(200);
      types[format] = res.headers.get("content-type");
      await res.arrayBuffer();
    }
    expect(types).toEqual({
      xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
      ods: "application/vnd.oasis.opendocument.spreadsheet",
      html: "text/html; charset=utf-8",
      markdown: "text/markdown; charset=utf-8",
    });
  });

  it("serves /export/pretty as indented JSON and filters by a time range", async () => {
    const res = await fetch(`${s.transfer.url}/export/pretty?entity=users&fields=username,createdAt&from=2024-01-01T00:10:00Z&to=2024-01-01T00:13:00Z&time_field=createdAt&sort=createdAt`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(res.headers.get("content-disposition")).toContain(".json");
    const text = await res.text();
    expect(text).toContain('\n  {\n    "username"');
    expect((JSON.parse(text) as { username: string }[]).map((u) => u.username)).toEqual(["user10", "user11", "user12"]);
  });

  it("answers JSON errors: 404 for an unknown format, 400 for a missing entity or a bad filter", async () => {
    const unknown = await fetch(`${s.transfer.url}/export/nope?entity=users`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: "not_found", message: expect.stringContaining("nope") });
    const noEntity = await fetch(`${s.transfer.url}/export/csv`);
    expect(noEntity.status).toBe(400);
    expect(await noEntity.json()).toMatchObject({ code: "invalid_argument", message: expect.stringContaining("entity") });
    const badDate = await fetch(`${s.transfer.url}/export/csv?entity=users&from=yesterday`);
    expect(badDate.status).toBe(400);
    const badField = await fetch(`${s.transfer.url}/export/csv?entity=users&fields=email,shoeSize`);
    expect(badField.status).toBe(400);
    expect(await badField.json()).toMatchObject({ message: expect.stringContaining("shoeSize") });
    // Refused by the records service once the export started: still a JSON error.
    const badSort = await fetch(`${s.transfer.url}/export/csv?entity=users&sort=-shoeSize`);
    expect(badSort.status).toBe(400);
    expect(await badSort.json()).toMatchObject({ code: "invalid_argument", message: expect.stringContaining("shoeSize") });
  });
});

describe("POST /import", () => {
  it("takes a multipart upload and answers the job summary with its row errors", async () => {
    const csv = "email,username,first name\r\nhttp1@example.org,http1,Ann\r\nbroken,http2,Bob\r\n";
    const res = await fetch(`${s.transfer.url}/import`, { method: "POST", body: upload({ format: "csv", entity: "users", mode: "insert" }, csv, "people.csv") });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { jobId: string; errors: { row: number; column: string; reason: string }[] } & Record<string, unknown>;
    expect(body).toMatchObject({ state: "succeeded", read: 2, inserted: 1, failed: 1, errorCount: 1, dryRun: false });
    expect(body.errors).toEqual([expect.objectContaining({ row: 2, line: 3, column: "email", value: "broken", code: "invalid" })]);
    const job = (await (await fetch(`${s.transfer.url}/jobs/${body.jobId}`)).json()) as Record<string, unknown>;
    expect(job).toMatchObject({ kind: "import", state: "succeeded", fileName: "people.csv", counts: { read: 2, inserted: 1, failed: 1 }, errorCount: 1, subject: "anonymous" });
  });

  it("takes the file before the other fields, as curl -F file=@… -F format=… sends it", async () => {
    const form = new FormData();
    form.append("file", new Blob(['[{"email":"first1@example.org","username":"first1"},{"email":"nope","username":"first2"}]'], { type: "application/json" }), "users.json");
    form.append("format", "json");
    form.append("entity", "users");
    const res = await fetch(`${s.transfer.url}/import`, { method: "POST", body: form });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { errors: { row: number; column: string }[] } & Record<string, unknown>;
    expect(body).toMatchObject({ read: 2, inserted: 1, failed: 1 });
    expect(body.errors).toEqual([expect.objectContaining({ row: 2, column: "email", value: "nope" })]);
  });

  it("still refuses a file over the size limit when it comes before the fields", async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => `late${i}@example.org,late${i}`).join("\n");
    const form = new FormData();
    form.append("file", new Blob([`email,username\n${rows}\n`], { type: "text/csv" }), "big.csv");
    form.append("format", "csv");
    form.append("entity", "users");
    const res = await fetch(`${small.transfer.url}/import`, { method: "POST", body: form });
    expect(res.status).toBe(413);
  });

  it("reads options and mapping given as JSON fields", async () => {
    const csv = "Login|Mail\nmapped1|MAPPED1@EXAMPLE.ORG\n";
    const mapping = JSON.stringify([
      { source: "Login", field: "username" },
      { source: "Mail", field: "email", transforms: [{ kind: "lowercase" }] },
    ]);
    const res = await fetch(`${s.transfer.url}/import`, { method: "POST", body: upload({ format: "csv", entity: "users", options: '{"delimiter":"|"}', mapping }, csv) });
    expect(await res.json()).toMatchObject({ inserted: 1, failed: 0 });
  });

  it("refuses with 400 a Moodle upload whose mapping names columns it does not have, naming them and the file's columns, even as a dry run", async () => {
    const moodle = readFileSync(new URL("../../fixtures/real-world/moodle-upload-users.csv", import.meta.url), "utf8");
    const mapping = JSON.stringify([
      { source: "first_name", field: "firstName" },
      { source: "last_name", field: "lastName" },
    ]);
    for (const dryRun of ["true", "false"]) {
      const res = await fetch(`${s.transfer.url}/import`, { method: "POST", body: upload({ format: "csv", entity: "users", mapping, dry_run: dryRun }, moodle) });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { code: string; message: string; inserted: number };
      expect(body.code).toBe("invalid_argument");
      expect(body.message).toContain("the import was refused before anything was written (header at line 1)");
      expect(body.message).toContain('"first_name" is not a column of the file (did you mean "firstname"?)');
      expect(body.message).toContain('the file\'s columns: "username", "firstname", "lastname", "email"');
    }
    const stored = await s.recordsClient.getRecord({ entity: Entity.USERS, key: { parts: ["jose.garcia@example.edu"] } }).catch((e: unknown) => e);
    expect((stored as { code?: unknown }).code).toBeDefined();
  });

  it("refuses a body that is not multipart, a missing file and a bad mode with 400", async () => {
    const notMultipart = await fetch(`${s.transfer.url}/import`, { method: "POST", body: "email\n", headers: { "content-type": "text/csv" } });
    expect(notMultipart.status).toBe(400);
    const form = new FormData();
    form.append("format", "csv");
    form.append("entity", "users");
    const noFile = await fetch(`${s.transfer.url}/import`, { method: "POST", body: form });
    expect(noFile.status).toBe(400);
    expect(await noFile.json()).toMatchObject({ code: "invalid_argument", message: expect.stringContaining("file") });
    const badMode = await fetch(`${s.transfer.url}/import`, { method: "POST", body: upload({ format: "csv", entity: "users", mode: "overwrite" }, "email\n") });
    expect(badMode.status).toBe(400);
    const unknownFormat = await fetch(`${s.transfer.url}/import`, { method: "POST", body: upload({ format: "xml", entity: "users" }, "<a/>") });
    expect(unknownFormat.status).toBe(404);
  });

  it("stops a file over the size limit with 413 and a failed job that says why", async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => `big${i}@example.org,big${i}`).join("\n");
    const res = await fetch(`${small.transfer.url}/import`, { method: "POST", body: upload({ format: "csv", entity: "users" }, `email,username\n${rows}\n`) });
    expect(res.status).toBe(413);
    const body = (await res.json()) as { jobId: string } & Record<string, unknown>;
    expect(body).toMatchObject({ code: "resource_exhausted", message: expect.stringContaining("file size limit of 0.01 MiB") });
    const job = (await (await fetch(`${small.transfer.url}/jobs/${body.jobId}`)).json()) as Record<string, unknown>;
    expect(job).toMatchObject({ state: "failed", errorCode: "resource_exhausted" });
  });
});

describe("GET /jobs", () => {
  it("answers 404 JSON for a job that does not exist", async () => {
    const res = await fetch(`${s.transfer.url}/jobs/00000000-0000-0000-0000-000000000000`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: "not_found" });
    const rows = await fetch(`${s.transfer.url}/jobs/nope/failed-rows`);
    expect(rows.status).toBe(404);
  });

  it("downloads a job's row errors as CSV with their row, column, value and reason (view=errors)", async () => {
    const csv = "email,username,role\r\nfr1@example.org,fr1,student\r\n=cmd|evil,fr2,student\r\nfr3@example.org,fr3,pirate\r\n";
    const imported = (await (await fetch(`${s.transfer.url}/import`, { method: "POST", body: upload({ format: "csv", entity: "users" }, csv) })).json()) as { jobId: string };
    const res = await fetch(`${s.transfer.url}/jobs/${imported.jobId}/failed-rows?view=errors`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toContain("errors.csv");
    const lines = (await res.text()).trim().split("\r\n");
    expect(lines[0]).toBe("row,line,column,value,reason,code");
    expect(lines).toHaveLength(3);
    // A value that a spreadsheet would run as a formula is defused.
    expect(lines[1]).toMatch(/^2,3,email,'=cmd\|evil,.*email.*,invalid$/);
    expect(lines[2]).toMatch(/^3,4,role,pirate,.*must be one of student, teacher, admin.*,invalid$/);
  });

  it("downloads the rejected rows themselves, fixes them and uploads that file back as it is", async () => {
    const csv = "email,username,role\r\nfx1@example.org,fx1,student\r\n=cmd|evil,fx2,student\r\nfx3@example.org,fx3,pirate\r\n";
    const imported = (await (await fetch(`${s.transfer.url}/import`, { method: "POST", body: upload({ format: "csv", entity: "users" }, csv) })).json()) as { jobId: string };
    const res = await fetch(`${s.transfer.url}/jobs/${imported.jobId}/failed-rows`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toContain(`job-${imported.jobId}-failed-rows.csv`);
    const text = await res.text();
    const lines = text.trim().split("\r\n");
    expect(lines[0]).toBe("email,username,role,_row,_line,_errors");
    // The formula stays defused in the file, and comes back as the cell was.
    expect(lines[1]).toMatch(/^'=cmd\|evil,fx2,student,2,3,email: /);
    expect(lines[2]).toBe('fx3@example.org,fx3,pirate,3,4,"role: must be one of student, teacher, admin"');
    const fixed = text.replace("'=cmd|evil", "fx2@example.org").replace("pirate", "teacher");
    const again = (await (await fetch(`${s.transfer.url}/import`, { method: "POST", body: upload({ format: "csv", entity: "users" }, fixed) })).json()) as { inserted: number; failed: number };
    expect(again).toMatchObject({ inserted: 2, failed: 0 });
    expect((await fetch(`${s.transfer.url}/jobs/${imported.jobId}/failed-rows?view=all`)).status).toBe(400);
    expect((await fetch(`${s.transfer.url}/jobs/${imported.jobId}/failed-rows?format=csv`)).status).toBe(400);
  });

  it("gives NDJSON uploads their failed rows back as NDJSON, each line the record as it was plus _row, _line and _errors", async () => {
    const ndjson = '{"email":"nd1@example.org","username":"nd1"}\n{"email":"nd2@example.org","username":"nd 2"}\nnot json\n';
    const imported = (await (await fetch(`${s.transfer.url}/import`, { method: "POST", body: upload({ format: "ndjson", entity: "users" }, ndjson) })).json()) as { jobId: string };
    const res = await fetch(`${s.transfer.url}/jobs/${imported.jobId}/failed-rows`);
    expect(res.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
    const rows = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows[0]).toMatchObject({ email: "nd2@example.org", username: "nd 2", _row: 2, _line: 2 });
    expect(rows[0]!._errors).toContain("username:");
    expect(rows[1]).toMatchObject({ _row: 3, _line: 3 });
    expect(rows[1]!._errors).toContain("invalid JSON");
  });

  it("gives JSON uploads their failed rows back as a JSON array of the records as they were", async () => {
    const json = JSON.stringify([
      { email: "js1@example.org", username: "js1" },
      { email: "js2@example.org", username: "js 2", firstName: "Ann" },
    ]);
    const imported = (await (await fetch(`${s.transfer.url}/import`, { method: "POST", body: upload({ format: "json", entity: "users" }, json) })).json()) as { jobId: string };
    const res = await fetch(`${s.transfer.url}/jobs/${imported.jobId}/failed-rows`);
    expect(res.headers.get("content-disposition")).toContain(".json");
    const rows = (await res.json()) as Record<string, unknown>[];
    expect(rows).toEqual([{ email: "js2@example.org", username: "js 2", firstName: "Ann", _row: 2, _line: 1, _errors: expect.stringContaining("username:") }]);
  });

  it("lists jobs with filters as query parameters", async () => {
    const res = await fetch(`${s.transfer.url}/jobs?kind=export&entity=users&state=succeeded&page_size=2`);
    const body = (await res.json()) as { jobs: { kind: string; entity: string }[]; nextPageToken: string };
    expect(body.jobs.length).toBeGreaterThan(0);
    expect(body.jobs.every((j) => j.kind === "export" && j.entity === "users")).toBe(true);
    expect((await fetch(`${s.transfer.url}/jobs?state=sleeping`)).status).toBe(400);
  });
});
