/**
 * The field-level rule for personal data (emails, names: the `pii`
 * permission) applies to every view of a job, as it does to exports and the
 * audit trail: a reader without `pii` sees a job's row errors, its failed-rows
 * file and an export's filter with the personal values withheld, over HTTP
 * and RPC alike — and everything else as it is. A reader with `pii` sees all.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create, toJsonString } from "@bufbuild/protobuf";
import { GetJobResponseSchema, ListJobsResponseSchema } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { Entity } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { FilterSchema, RecordKeySchema } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { exportFile, seed, user } from "../rpc/harness.js";
import { adminRecordsClient, as, startAuthServices, type AuthServices } from "../auth/auth-harness.js";

let s: AuthServices;
let importJob = "";
let exportJob = "";

/** Every personal value the jobs below hold: none may reach a reader without pii. */
const PERSONAL = ["taken.person@example.org", "not-an-email-ann", "dup.person@example.org", "Bartholomew-The-Long-Named", "Zed-Surname", "filtered.one@example.org", "filtered.two@example.org"];

beforeAll(async () => {
  s = await startAuthServices();
  await seed(adminRecordsClient(s.records.url), Entity.USERS, [user("taken", { email: "taken.person@example.org" }), user("f1", { email: "filtered.one@example.org" })]);
  const csv = [
    "email,username,firstName,lastName,role",
    "taken.person@example.org,newname,Ann,Smith,student", // exists: the reason names the email
    "not-an-email-ann,annie,Ann,Smith,student", // the value is an email cell
    "dup.person@example.org,dup1,Dee,Upp,student",
    "dup.person@example.org,dup2,Dee,Upp,student", // duplicate in the file: the value is the email
    `ok.person@example.org,bart,${"Bartholomew-The-Long-Named".repeat(10)},Zed-Surname,student`, // first name too long
    "pirate.person@example.org,pirate,Pat,Rate,pirate", // not personal: the role
  ].join("\n");
  const form = new FormData();
  form.append("format", "csv");
  form.append("entity", "users");
  form.append("file", new Blob([`${csv}\n`], { type: "text/csv" }), "people.csv");
  const res = await fetch(`${s.transfer.url}/import`, { method: "POST", headers: await as(["importer"], "ivy"), body: form });
  const body = (await res.json()) as { jobId: string; errorCount: number };
  importJob = body.jobId;
  expect(body.errorCount).toBe(5);
  // The uploader's own answer shows the file's values: they sent them.
  const shown = JSON.stringify(body);
  expect(shown).toContain("taken.person@example.org");
  expect(shown).not.toContain('"personal"');
  const exported = await exportFile(
    s.client,
    {
      entity: Entity.USERS,
      format: "csv",
      fields: ["username"],
      filter: create(FilterSchema, { keys: [create(RecordKeySchema, { parts: ["filtered.one@example.org"] }), create(RecordKeySchema, { parts: ["filtered.two@example.org"] })] }),
    },
    await as(["exporter", "pii"], "pat"),
  );
  exportJob = exported.header.jobId;
});
afterAll(async () => s?.close());

function expectNone(text: string, label: string): void {
  for (const value of PERSONAL) expect(text.includes(value), `${label} shows ${value}`).toBe(false);
}

describe("a reader without pii", () => {
  it("sees a job's row errors over HTTP with personal values withheld, and the rest as it is", async () => {
    const headers = await as(["auditor"], "audrey");
    const res = await fetch(`${s.transfer.url}/jobs/${importJob}`, { headers });
    const text = await res.text();
    expectNone(text, "GET /jobs/{id}");
    const job = JSON.parse(text) as { errors: { row: number; column?: string; value?: string; reason: string; code: string }[] };
    expect(job.errors).toHaveLength(5);
    expect(job.errors.find((e) => e.code === "exists")).toMatchObject({ row: 1, reason: expect.stringContaining("(personal data withheld)") });
    expect(job.errors.find((e) => e.row === 2)).toMatchObject({ column: "email", value: "(personal data withheld)" });
    expect(job.errors.find((e) => e.code === "duplicate_in_file")).toMatchObject({ row: 4, value: "(personal data withheld)" });
    expect(job.errors.find((e) => e.row === 6)).toMatchObject({ column: "role", value: "pirate", reason: expect.stringContaining("student") });
    expect(text).not.toContain('"personal"');
    // The importer without pii reads its own job the same way.
    expectNone(await (await fetch(`${s.transfer.url}/jobs/${importJob}`, { headers: await as(["importer"], "ivy") })).text(), "the importer's GET /jobs/{id}");
  });

  it("gets the rejected rows with personal cells withheld and everything else as uploaded, over HTTP and RPC", async () => {
    const headers = await as(["auditor"], "audrey");
    const csv = await (await fetch(`${s.transfer.url}/jobs/${importJob}/failed-rows`, { headers })).text();
    expectNone(csv, "GET /jobs/{id}/failed-rows");
    const lines = csv.trim().split(/\r?\n/);
    expect(lines[0]).toBe("email,username,firstName,lastName,role,_row,_line,_errors");
    expect(lines).toHaveLength(6);
    // Rows come in the order they were rejected (the existing email only at the records service).
    expect(lines.find((l) => l.includes(",newname,"))).toMatch(/^\(personal data withheld\),newname,\(personal data withheld\),\(personal data withheld\),student,1,2,/);
    expect(csv).toContain("pirate");
    const chunks: Uint8Array[] = [];
    for await (const r of s.client.getFailedRows({ jobId: importJob }, { headers })) chunks.push(r.chunk);
    expect(Buffer.concat(chunks).toString("utf8")).toBe(csv);
  });

  it("gets the per-error listing with personal values withheld", async () => {
    const headers = await as(["auditor"], "audrey");
    const csv = await (await fetch(`${s.transfer.url}/jobs/${importJob}/failed-rows?view=errors`, { headers })).text();
    expectNone(csv, "GET /jobs/{id}/failed-rows?view=errors");
    expect(csv).toContain("(personal data withheld)");
    expect(csv).toContain("pirate");
  });

  it("sees jobs through GetJob, ListJobs and GET /jobs without them, an export's filter keys included", async () => {
    const headers = await as(["auditor"], "audrey");
    const views = [
      toJsonString(GetJobResponseSchema, await s.client.getJob({ jobId: importJob }, { headers })),
      toJsonString(GetJobResponseSchema, await s.client.getJob({ jobId: exportJob }, { headers })),
      toJsonString(ListJobsResponseSchema, await s.client.listJobs({}, { headers })),
      await (await fetch(`${s.transfer.url}/jobs`, { headers })).text(),
      await (await fetch(`${s.transfer.url}/jobs/${exportJob}`, { headers })).text(),
    ];
    views.forEach((text, i) => expectNone(text.replace(/\\"/g, '"'), `view ${i}`));
    const exportView = JSON.parse(views[4]!) as { filter: { keys: unknown } };
    expect(exportView.filter.keys).toEqual([{ parts: ["(personal data withheld)"] }, { parts: ["(personal data withheld)"] }]);
  });
});

describe("a reader with pii", () => {
  it("sees every value", async () => {
    const headers = await as(["auditor", "pii"], "paula");
    const text = (await (await fetch(`${s.transfer.url}/jobs/${importJob}`, { headers })).text()) + (await (await fetch(`${s.transfer.url}/jobs/${importJob}/failed-rows`, { headers })).text());
    for (const value of ["taken.person@example.org", "not-an-email-ann", "dup.person@example.org", "Bartholomew-The-Long-Named"]) expect(text).toContain(value);
    expect(text).not.toContain('"personal"');
    const exportView = (await (await fetch(`${s.transfer.url}/jobs/${exportJob}`, { headers })).json()) as { filter: { keys: { parts: string[] }[] } };
    expect(exportView.filter.keys.map((k) => k.parts[0])).toEqual(["filtered.one@example.org", "filtered.two@example.org"]);
  });
});
