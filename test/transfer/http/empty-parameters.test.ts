/**
 * An empty form field or query parameter (`-F dry_run=`, `?status=`) is not
 * the parameter left out: it is refused with 400 naming it, before a job
 * exists or a record is written — never taken as the default (`dry_run=` once
 * ran a real import, `limit=` exported everything, `status=` filtered
 * nothing). Left out, every parameter still has its default.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Entity } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { seed, startServices, user, type Services } from "../rpc/harness.js";

let s: Services;
let jobId = "";

beforeAll(async () => {
  s = await startServices();
  await seed(
    s.recordsClient,
    Entity.USERS,
    Array.from({ length: 5 }, (_, i) => user(i)),
  );
  const res = await fetch(`${s.transfer.url}/export/csv?entity=users&fields=username`);
  jobId = res.headers.get("x-job-id")!;
  await res.text();
});
afterAll(async () => s?.close());

const jobs = () => s.transferDb.db.collection("jobs").countDocuments();
const users = async () => Number((await s.recordsClient.countRecords({ entity: Entity.USERS })).count);

const csv = (prefix: string) => `email,username\n${prefix}0@example.org,${prefix}0\n${prefix}1@example.org,${prefix}1\n`;

/** Posts a form (fields, then the file) to `path`; answers the status and JSON body. */
async function post(
  path: string,
  fields: [string, string][],
  file = csv("empty"),
  fileName = "users.csv",
): Promise<{ status: number; body: { code?: string; message?: string } & Record<string, unknown> }> {
  const form = new FormData();
  for (const [name, value] of fields) form.append(name, value);
  form.append("file", new Blob([file], { type: "text/csv" }), fileName);
  const res = await fetch(`${s.transfer.url}${path}`, { method: "POST", body: form });
  return { status: res.status, body: (await res.json()) as { code?: string; message?: string } & Record<string, unknown> };
}

/** Expects `path` refused with 400 `invalid_argument` and `message`, no job started. */
async function refused(path: string, message: RegExp, method = "GET"): Promise<void> {
  const before = await jobs();
  const res = await fetch(`${s.transfer.url}${path}`, { method });
  expect([path, res.status]).toEqual([path, 400]);
  if (method !== "HEAD") {
    const body = (await res.json()) as { code: string; message: string };
    expect([path, body.code]).toEqual([path, "invalid_argument"]);
    expect(body.message, path).toMatch(message);
  } else await res.arrayBuffer();
  expect(await jobs(), path).toBe(before);
}

describe("POST /import with an empty form field", () => {
  const FIELDS: [name: string, message: RegExp][] = [
    ["dry_run", /^dry_run is empty: give true or false$/],
    ["strict", /^strict is empty: give true or false$/],
    ["mode", /^mode is empty: give insert, upsert, merge or skip-existing$/],
    ["options", /^options is empty: give a JSON object$/],
    ["mapping", /^mapping is empty: give a JSON array of \{source, field, transforms\}$/],
    ["format", /^format is empty: give a format such as csv, or leave format out/],
    ["entity", /^entity is empty: give users, courses, sessions, enrollments or activity$/],
    ["max_errors", /^max_errors is empty: give a whole number$/],
    ["max_error_ratio", /^max_error_ratio is empty: give a fraction such as 0\.05$/],
    ["max_changes", /^max_changes is empty: give a whole number$/],
  ];

  it("refuses each one with 400 naming it, before a job or a record exists", async () => {
    for (const [name, message] of FIELDS) {
      for (const value of ["", "  "]) {
        const [jobsBefore, usersBefore] = [await jobs(), await users()];
        const fields: [string, string][] = [
          ["entity", "users"],
          ["format", "csv"],
        ];
        const i = fields.findIndex(([n]) => n === name);
        if (i >= 0) fields[i] = [name, value];
        else fields.push([name, value]);
        const res = await post("/import", fields);
        expect([name, value, res.status]).toEqual([name, value, 400]);
        expect(res.body.code, name).toBe("invalid_argument");
        expect(res.body.message, name).toMatch(message);
        expect([name, await users(), await jobs()]).toEqual([name, usersBefore, jobsBefore]);
      }
    }
  });

  it("refuses an empty field after the file as well (curl's -F order)", async () => {
    const before = await users();
    const form = new FormData();
    form.append("entity", "users");
    form.append("file", new Blob([csv("after")]), "users.csv");
    form.append("dry_run", "");
    const res = await fetch(`${s.transfer.url}/import`, { method: "POST", body: form });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toBe("dry_run is empty: give true or false");
    expect(await users()).toBe(before);
  });

  it("refuses async= and bundle= in the query before the body is read", async () => {
    const before = [await users(), await jobs()];
    for (const [query, message] of [
      ["async=", /^async is empty: give true or false$/],
      ["bundle=", /^bundle is empty: give true or false$/],
    ] as const) {
      const res = await post(`/import?${query}`, [["entity", "users"]]);
      expect([query, res.status]).toEqual([query, 400]);
      expect(res.body.message, query).toMatch(message);
    }
    expect([await users(), await jobs()]).toEqual(before);
  });

  it("refuses an empty field of a bundle upload, before anything is written", async () => {
    const before = [await users(), await jobs()];
    for (const name of ["dry_run", "strict", "users.mode", "users.mapping", "users.options"]) {
      const res = await post("/import?bundle=true", [[name, ""]], "not read", "bundle.zip");
      expect([name, res.status]).toEqual([name, 400]);
      expect(res.body.message, name).toMatch(new RegExp(`^${name.replace(".", "\\.")} is empty: give `));
    }
    expect([await users(), await jobs()]).toEqual(before);
  });

  it("still takes every optional field left out: a real insert (dry_run false), and dry_run=true still a dry run", async () => {
    const before = await users();
    const res = await post("/import", [["entity", "users"]], csv("absent"));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ inserted: 2, dryRun: false });
    expect(await users()).toBe(before + 2);
    const dry = await post(
      "/import",
      [
        ["entity", "users"],
        ["dry_run", "true"],
      ],
      csv("dryrun"),
    );
    expect(dry.status).toBe(200);
    expect(await users()).toBe(before + 2);
  });
});

describe("GET /export/{format} with an empty query parameter", () => {
  it("refuses each parameter of an export of records", async () => {
    for (const name of ["source", "fields", "labels", "options", "limit", "from", "to", "changed_since", "time_field", "sort", "status", "role", "user_id", "course_id", "session_id", "action"]) {
      await refused(`/export/csv?entity=users&${name}=`, new RegExp(`^${name} is empty: give `));
    }
    await refused("/export/csv?entity=", /^entity is empty: give users, courses, sessions, enrollments or activity$/);
    await refused("/export/csv?entity=users&limit=", /^limit is empty: give a whole number$/, "HEAD");
  });

  it("refuses a blank value, an empty repeat and a list of nothing", async () => {
    await refused("/export/csv?entity=users&status=%20", /^status is empty: /);
    await refused("/export/csv?entity=users&status=active&status=", /^status is empty: /);
    await refused("/export/csv?entity=users&status=,", /^status is empty: give one or more, separated by commas, or leave it out$/);
    await refused("/export/csv?entity=users&fields=,%20", /^fields is empty: /);
  });

  it("refuses each parameter of an export of the audit trail and of deletions", async () => {
    for (const name of ["subject", "action", "entity", "from", "to", "fields", "labels", "options", "limit"]) {
      await refused(`/export/csv?source=audit&${name}=`, new RegExp(`^${name} is empty: give `));
    }
    for (const name of ["changed_since", "fields", "labels", "options", "limit"]) {
      await refused(`/export/csv?source=deletions&entity=users&${name}=`, new RegExp(`^${name} is empty: give `));
    }
  });

  it("refuses an empty parameter of a bundle export, bundle-wide or an entity's", async () => {
    await refused("/export/csv?bundle=", /^bundle names no entity/);
    await refused("/export/csv?bundle=users&options=", /^options is empty: give a JSON object$/);
    for (const name of ["status", "limit", "fields", "sort", "labels", "from"]) {
      await refused(`/export/csv?bundle=users,courses&users.${name}=`, new RegExp(`users\\.${name} is empty: give `));
    }
  });

  it("still exports everything with the optional parameters left out", async () => {
    const res = await fetch(`${s.transfer.url}/export/csv?entity=users&fields=username`);
    expect(res.status).toBe(200);
    const lines = (await res.text()).split("\r\n").filter(Boolean);
    expect(lines.length - 1).toBe(await users());
  });
});

describe("the job pages with an empty query parameter", () => {
  it("refuses each parameter of GET /jobs and GET /jobs/{id}/failed-rows", async () => {
    for (const name of ["subject", "entity", "state", "kind", "from", "to", "page_size", "page_token"]) {
      await refused(`/jobs?${name}=`, new RegExp(`^${name} is empty: give `));
    }
    await refused(`/jobs/${jobId}/failed-rows?view=`, /^view is empty: give /);
    await refused(`/jobs/${jobId}/failed-rows?part=`, /^part is empty: give /);
  });

  it("still lists jobs with them left out", async () => {
    const res = await fetch(`${s.transfer.url}/jobs?page_size=1`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { jobs: unknown[] }).jobs).toHaveLength(1);
  });
});
