/**
 * The transfer service's plain HTTP routes with authentication on (401 JSON
 * with a challenge, 403 JSON from the same role table as the RPCs), and
 * personal data in exports: the records service decides for the user the
 * transfer service forwards, so an exporter without `pii` never gets emails
 * or names, whichever way they ask.
 */
import { strFromU8, unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { Entity, WriteMode } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { PreviewRow_Outcome, type PreviewImportResponse } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { course, exportFile, seed, session, user } from "../rpc/harness.js";
import { adminRecordsClient, as, recordsToken, startAuthServices, transferToken, type AuthServices } from "./auth-harness.js";

let s: AuthServices;
let otherJob = "";

beforeAll(async () => {
  s = await startAuthServices();
  await seed(
    adminRecordsClient(s.records.url),
    Entity.USERS,
    Array.from({ length: 12 }, (_, i) => user(i)),
  );
  const res = await fetch(`${s.transfer.url}/export/csv?entity=users&fields=username`, { headers: await as(["exporter"], "zed") });
  otherJob = res.headers.get("x-job-id")!;
  await res.text();
});
afterAll(async () => s?.close());

function upload(fields: Record<string, string>, file: string): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append("file", new Blob([file], { type: "text/csv" }), "courses.csv");
  return form;
}

const csvLines = (text: string) => text.trim().split("\r\n");

describe("plain HTTP routes", () => {
  const routes: [string, string, () => RequestInit][] = [
    ["GET", "/export/csv?entity=users", () => ({})],
    ["GET", "/export/csv?source=audit", () => ({})],
    ["POST", "/import", () => ({ method: "POST", body: upload({ entity: "courses", format: "csv", mode: "upsert" }, "code,title\nHTTP-1,Title\n") })],
    ["GET", "/jobs", () => ({})],
    ["GET", "/jobs/JOB", () => ({})],
    ["GET", "/jobs/JOB/failed-rows?view=errors", () => ({})],
  ];
  const url = (path: string) => `${s.transfer.url}${path.replace("JOB", otherJob)}`;

  it("answer 401 JSON with a bearer challenge to a request without a token, on every route", async () => {
    for (const [method, path, init] of routes) {
      const res = await fetch(url(path), init());
      expect([method, path, res.status]).toEqual([method, path, 401]);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="dataexchange"');
      expect(await res.json()).toMatchObject({ code: "unauthenticated", reason: "missing" });
    }
  });

  it("answer 401 to an expired token and to a records token replayed at transfer", async () => {
    for (const bad of [await transferToken(["admin"], "alice", { expIn: -600 }), await recordsToken(["admin", "pii"])]) {
      const res = await fetch(url("/export/csv?entity=users"), { headers: { authorization: `Bearer ${bad}` } });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
      await res.text();
    }
  });

  /** Status per route for each role, written out independently of access-policy.ts. */
  const EXPECTED: Record<string, number[]> = {
    admin: [200, 200, 200, 200, 200, 200],
    importer: [403, 403, 200, 200, 403, 403],
    exporter: [200, 403, 403, 200, 403, 403],
    auditor: [403, 200, 403, 200, 200, 200],
    pii: [403, 403, 403, 403, 403, 403],
  };
  for (const [role, statuses] of Object.entries(EXPECTED)) {
    it(`${role}: every route answers as the role table says (403 JSON when not allowed)`, async () => {
      const headers = await as([role], `http-${role}`);
      const got: number[] = [];
      for (const [, path, init] of routes) {
        const res = await fetch(url(path), { ...init(), headers });
        got.push(res.status);
        if (res.status === 403) expect(await res.json()).toMatchObject({ code: "permission_denied", message: expect.stringMatching(/^permission denied: /) });
        else await res.arrayBuffer();
      }
      expect(got).toEqual(statuses);
    });
  }

  it("refuses an importer's upload for an entity or dry run it may not, before the file is read", async () => {
    const res = await fetch(url("/import"), { method: "POST", headers: await as(["exporter"]), body: upload({ entity: "courses", format: "csv", dry_run: "true" }, "code,title\nX,Y\n") });
    expect(res.status).toBe(403);
  });

  it("lists only the caller's own jobs to an exporter, and the job subject is the token's sub", async () => {
    const res = await fetch(url("/jobs"), { headers: await as(["exporter"], "zed") });
    const body = (await res.json()) as { jobs: { subject: string; id: string }[] };
    expect(body.jobs.map((j) => j.id)).toContain(otherJob);
    expect(new Set(body.jobs.map((j) => j.subject))).toEqual(new Set(["zed"]));
    const refused = await fetch(url("/jobs?subject=someone-else"), { headers: await as(["exporter"], "zed") });
    expect(refused.status).toBe(403);
    await refused.text();
  });
});

describe("personal data in exports", () => {
  it("an exporter without pii gets users without email, first and last name columns", async () => {
    const result = await exportFile(s.client, { entity: Entity.USERS, format: "csv" }, await as(["exporter"], "eve"));
    const [header, ...rows] = csvLines(result.bytes.toString("utf8"));
    expect(header).not.toMatch(/mail|first|last/i);
    expect(header).toContain("Username");
    expect(rows).toHaveLength(12);
    expect(result.bytes.toString("utf8")).not.toContain("@example.org");
    expect(result.header.columns.map((c) => c.key)).not.toEqual(expect.arrayContaining(["email"]));
  });

  it("an exporter without pii who names a personal field is refused with PERMISSION_DENIED (RPC) and 403 (HTTP)", async () => {
    const error = await exportFile(s.client, { entity: Entity.USERS, format: "csv", fields: ["username", "email"] }, await as(["exporter"], "eve")).catch((e: unknown) => ConnectError.from(e));
    expect(error).toMatchObject({ code: Code.PermissionDenied });
    expect((error as ConnectError).rawMessage).toContain("email");
    const res = await fetch(`${s.transfer.url}/export/csv?entity=users&fields=username,lastName`, { headers: await as(["exporter"], "eve") });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toContain("lastName");
  });

  it("an exporter without pii is refused the deletions of users, named by email, but gets those of courses; with pii it gets both", async () => {
    const denied = await fetch(`${s.transfer.url}/export/csv?source=deletions&entity=users`, { headers: await as(["exporter"], "eve") });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { message: string }).message).toContain("email is personal data of users");
    const courses = await fetch(`${s.transfer.url}/export/csv?source=deletions&entity=courses`, { headers: await as(["exporter"], "eve") });
    expect(courses.status).toBe(200);
    expect((await courses.text()).trim()).toBe("Course code,Deleted at");
    const users = await fetch(`${s.transfer.url}/export/csv?source=deletions&entity=users`, { headers: await as(["exporter", "pii"], "pat") });
    expect(users.status).toBe(200);
    expect((await users.text()).trim()).toBe("Email address,Deleted at");
    const importer = await fetch(`${s.transfer.url}/export/csv?source=deletions&entity=courses`, { headers: await as(["importer"], "ivy") });
    expect(importer.status).toBe(403);
  });

  it("an exporter with pii gets them", async () => {
    const result = await exportFile(s.client, { entity: Entity.USERS, format: "csv", fields: ["email", "firstName", "lastName", "username"] }, await as(["exporter", "pii"], "pat"));
    const [header, first] = csvLines(result.bytes.toString("utf8"));
    expect(header).toBe("Email address,First name,Last name,Username");
    expect(first).toMatch(/^user\d+@example\.org,Ada,Number \d+,user\d+$/);
    const all = await fetch(`${s.transfer.url}/export/csv?entity=users`, { headers: await as(["exporter", "pii"], "pat") });
    expect(await all.text()).toContain("@example.org");
  });

  it("a user token that also carries role service gets nothing, personal data least of all", async () => {
    // At the transfer service a token with role service is a service's: without a forwarded user
    // it may do nothing (its table grants `service` nothing), so the user's own roles do not count either.
    const headers = await as(["exporter", "service"], "mallory");
    const error = await exportFile(s.client, { entity: Entity.USERS, format: "csv", fields: ["email"] }, headers).catch((e: unknown) => ConnectError.from(e));
    expect(error).toMatchObject({ code: Code.PermissionDenied });
    const res = await fetch(`${s.transfer.url}/export/json?entity=users`, { headers });
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain("@example.org");
    // And replayed at the records service, the audience is wrong.
    await expect(s.recordsClient.countRecords({ entity: Entity.USERS }, { headers })).rejects.toMatchObject({ code: Code.Unauthenticated });
  });

  it("passwords never appear in an export, even for an admin with pii who asks for them", async () => {
    const headers = await as(["admin", "pii"], "root");
    const form = upload({ entity: "users", format: "csv", mode: "upsert" }, "");
    form.set("file", new Blob(["email,username,firstName,lastName,role,password\npw@example.org,pwuser,P,W,student,Sup3r-Secret-Pass!\n"], { type: "text/csv" }), "users.csv");
    const imported = await fetch(`${s.transfer.url}/import`, { method: "POST", headers, body: form });
    const importBody = await imported.text();
    expect(imported.status).toBe(200);
    expect(importBody).not.toContain("Sup3r-Secret-Pass!");
    for (const format of ["csv", "json", "ndjson", "html", "markdown", "xlsx", "ods"]) {
      const bytes = Buffer.from(await (await fetch(`${s.transfer.url}/export/${format}?entity=users`, { headers })).arrayBuffer());
      // Workbooks are ZIP archives: look at the XML inside them.
      const text =
        bytes[0] === 0x50
          ? Object.values(unzipSync(bytes))
              .map((part) => strFromU8(part))
              .join("\n")
          : bytes.toString("utf8");
      expect(text).toContain("pw@example.org");
      expect(text).not.toMatch(/Sup3r-Secret-Pass!|password/i);
    }
    const asked = await fetch(`${s.transfer.url}/export/csv?entity=users&fields=username,password`, { headers });
    const answer = await asked.text();
    expect(answer).not.toContain("Sup3r-Secret-Pass!");
    // Asked for by name, the password is refused, not left out of a file that looks complete.
    expect([asked.status, JSON.parse(answer).message]).toEqual([400, expect.stringContaining('"password" is write-only')]);
  });
});

describe("PreviewImport for the roles that may import", () => {
  const file = "email,username,firstName,lastName,role,status\nuser1@example.org,user1,Ada,Lovelace,student,active\nfresh@example.org,fresh,New,Person,student,active\n";
  const preview = async (roles: string[]) =>
    s.client.previewImport({ header: { entity: Entity.USERS, format: "csv", mode: WriteMode.UPSERT }, head: Buffer.from(file), complete: true }, { headers: await as(roles, "pat") });
  const outcomes = (r: PreviewImportResponse) => r.rows.map((row) => PreviewRow_Outcome[row.outcome]);

  it("shows an importer each row's outcome and says why an update's changes are not shown: importers may write users, not read them", async () => {
    const r = await preview(["importer", "pii"]);
    expect(outcomes(r)).toEqual(["UPDATE", "NEW"]);
    expect(r.rows[0]!.changes).toEqual([]);
    expect(r.changesWithheld).toMatch(/^the changes each update makes are not shown: .*read/);
  });

  it("shows an admin the same outcomes with each update's stored and new values", async () => {
    const r = await preview(["admin", "pii"]);
    expect(outcomes(r)).toEqual(["UPDATE", "NEW"]);
    expect(r.changesWithheld).toBe("");
    expect(r.rows[0]!.changes.map((c) => ({ field: c.field, before: c.before?.kind.value, after: c.after?.kind.value }))).toEqual([{ field: "lastName", before: "Number 1", after: "Lovelace" }]);
  });
});

describe("joined columns in exports", () => {
  beforeAll(async () => {
    const admin = adminRecordsClient(s.records.url);
    await seed(admin, Entity.COURSES, [course("JOIN-1")]);
    await seed(admin, Entity.SESSIONS, [session("j1", "user1", "JOIN-1"), session("j2", "user2", "JOIN-1")]);
  });
  const stored = "Session id,User id,Course id,Started at,Ended at,Status,Score,Updated at";

  it("are left out of a default export, with pii or without, rather than given empty in every row", async () => {
    for (const roles of [["exporter", "pii"], ["exporter"]]) {
      const result = await exportFile(s.client, { entity: Entity.SESSIONS, format: "csv" }, await as(roles, "joe"));
      const [header, ...rows] = csvLines(result.bytes.toString("utf8"));
      expect([roles.join("+"), header]).toEqual([roles.join("+"), stored]);
      expect(rows).toHaveLength(2);
      const http = await fetch(`${s.transfer.url}/export/csv?entity=sessions`, { headers: await as(roles, "joe") });
      expect(csvLines(await http.text())[0]).toBe(stored);
    }
  });

  it("are filled in when named", async () => {
    const result = await exportFile(
      s.client,
      { entity: Entity.SESSIONS, format: "csv", fields: ["sessionId", "userName", "courseTitle"], sort: [{ field: "sessionId" }] },
      await as(["exporter", "pii"], "joe"),
    );
    expect(csvLines(result.bytes.toString("utf8"))).toEqual(["Session id,User name,Course title", "j1,Ada Number 1,Course JOIN-1", "j2,Ada Number 2,Course JOIN-1"]);
  });
});
