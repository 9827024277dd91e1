/**
 * Malformed requests to the plain HTTP routes are the caller's mistake: each
 * one is a clean 400 JSON naming what is wrong — never a 500, never a stack
 * trace in the logs, and never the query string in a log line (export
 * filters name people).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Entity } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { memoryLogger, type MemoryLogger } from "../../support/memory-logger.js";
import { as, startAuthServices, type AuthServices } from "../auth/auth-harness.js";
import { seed, startServices, user, type Services } from "../rpc/harness.js";
import { rawRequest } from "./raw-http.js";

let s: Services;
let logs: MemoryLogger;
const PROBE = "probe.person@example.org";

beforeAll(async () => {
  logs = memoryLogger({ service: "transfer", level: "info" });
  s = await startServices({ transferLogger: logs.log });
  await seed(
    s.recordsClient,
    Entity.USERS,
    Array.from({ length: 5 }, (_, i) => user(i)),
  );
});
afterAll(async () => s?.close());

async function expect400(target: string, names: string | RegExp, method = "GET"): Promise<void> {
  const res = await rawRequest(s.transfer.url, { method, target });
  expect([target, res.status]).toEqual([target, 400]);
  if (method === "HEAD") return;
  const body = JSON.parse(res.body.toString("utf8")) as { code: string; message: string };
  expect(body.code).toBe("invalid_argument");
  expect(body.message).toMatch(names);
}

function upload(fields: Record<string, string>): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append("file", new Blob(["email,username\nmal1@example.org,mal1\n"], { type: "text/csv" }), "users.csv");
  return form;
}

describe("a malformed percent-escape in the path", () => {
  it("is a 400, logged without a stack trace and without the query string", async () => {
    const errors = vi.spyOn(console, "error");
    try {
      for (const target of [`/export/%?entity=users&user_id=${PROBE}`, `/export/cs%E0%A4v?entity=users&user_id=${PROBE}`, `/jobs/%zz?x=${PROBE}`, `/jobs/%/failed-rows?x=${PROBE}`]) {
        await expect400(target, /percent-encod/);
      }
      expect(errors).not.toHaveBeenCalled();
    } finally {
      errors.mockRestore();
    }
    await new Promise((r) => setTimeout(r, 50)); // request lines are written once the response is closed
    const text = logs.text();
    expect(text).toContain('"status":400');
    expect(text).not.toContain(PROBE);
    expect(text).not.toMatch(/URIError|\n\s+at /);
  });
});

describe("entity names that are properties of every JavaScript object", () => {
  const names = ["__proto__", "constructor", "toString", "hasOwnProperty", "prototype"];

  it("are refused with 400 on export (GET and HEAD), the audit trail's filter and the jobs list", async () => {
    for (const name of names) {
      await expect400(`/export/csv?entity=${name}`, /entity must be one of users, courses/);
      await expect400(`/export/csv?entity=${name}`, /entity/, "HEAD");
      await expect400(`/export/csv?source=audit&entity=${name}`, /entity must be one of/);
      await expect400(`/jobs?entity=${name}`, /entity must be one of/);
    }
  });

  it("are refused with 400 on import, before a job is created", async () => {
    const before = await s.transferDb.db.collection("jobs").countDocuments();
    for (const name of names) {
      const res = await fetch(`${s.transfer.url}/import`, { method: "POST", body: upload({ format: "csv", entity: name }) });
      expect([name, res.status]).toEqual([name, 400]);
      expect(await res.json()).toMatchObject({ code: "invalid_argument", message: expect.stringContaining("entity must be one of") });
    }
    expect(await s.transferDb.db.collection("jobs").countDocuments()).toBe(before);
  });

  it("are a format name nobody has (404), not a crash", async () => {
    for (const name of names) {
      const res = await fetch(`${s.transfer.url}/export/${name}?entity=users`);
      expect([name, res.status]).toEqual([name, 404]);
      expect(await res.json()).toMatchObject({ code: "not_found" });
    }
  });
});

describe("numbers and dates out of range", () => {
  it("refuses a limit beyond what the database can honour, and takes the largest it can", async () => {
    for (const limit of ["18446744073709551616", "18446744073709551615", "9223372036854775808", "9007199254740992", "99999999999999999999999999"]) {
      await expect400(`/export/csv?entity=users&limit=${limit}`, /limit must be/);
    }
    const ok = await fetch(`${s.transfer.url}/export/csv?entity=users&fields=username&limit=9007199254740991`);
    expect(ok.status).toBe(200);
    expect((await ok.text()).trim().split("\r\n")).toHaveLength(6);
  });

  it("refuses dates a timestamp cannot hold", async () => {
    await expect400("/export/csv?entity=users&from=-271821-04-20", /from must be/);
    await expect400("/export/csv?entity=users&to=+275760-09-13", /to must be/);
    await expect400("/export/csv?source=audit&from=-000001-01-01", /from must be/);
    await expect400("/jobs?from=-271821-04-20", /from must be/);
    await expect400("/export/csv?entity=users&from=0000-12-31T23:59:59Z", /^from must be a date from 0001-01-01 to 9999-12-31/);
  });

  it("refuses a date that is not ISO 8601, names no real day, or has a time without its zone, instead of guessing what it means", async () => {
    // new Date() took each of these: "2" as 2001-01-01 in the server's zone, Feb 30 as March 1st, a zone-less time in the server's zone.
    await expect400("/export/csv?entity=users&from=2", /^from must be an ISO 8601 date \(2024-05-01, midnight UTC\) or date-time with its zone/);
    await expect400("/export/csv?entity=users&from=March%207%202024", /^from must be an ISO 8601 date/);
    await expect400("/export/csv?entity=users&to=2024-02-30", /^to: invalid day in timestamp "2024-02-30"$/);
    await expect400("/export/csv?entity=users&from=2024-05-01T12:00:00", /^from "2024-05-01T12:00:00" has a time but no time zone: end it with Z or an offset/);
    await expect400("/jobs?to=2024-05-01T25:00:00Z", /^to: invalid hour in timestamp/);
    await expect400("/export/csv?source=audit&from=2024-05-01T12:00:00+01:00", /a "\+" in a query string must be written %2B\)$/);
    const offset = await fetch(`${s.transfer.url}/export/csv?entity=users&fields=username&from=2024-01-01T00:10:00%2B00:00&to=2024-01-02`);
    expect([offset.status, offset.status === 200 ? "" : await offset.text()]).toEqual([200, ""]);
  });

  it("refuses a filter value no record can have (a status or role outside its list) instead of exporting an empty file", async () => {
    await expect400("/export/csv?entity=users&status=suspnded", /^cannot filter by users\.status is one of active, suspended; no record has "suspnded"$/);
    await expect400("/export/ndjson?entity=enrollments&role=student,admin", /enrollments\.role is one of .*; no record has "admin"$/);
  });

  it("refuses options or labels that give a key twice, rather than keep the last one", async () => {
    await expect400(`/export/csv?entity=users&options=${encodeURIComponent('{"delimiter":";","delimiter":","}')}`, /^options: duplicate key "delimiter": the object gives it twice/);
    await expect400(`/export/csv?entity=users&labels=${encodeURIComponent('{"email":"Mail","\\u0065mail":"E-mail"}')}`, /^labels: duplicate key "email"/);
  });

  it("refuses a page size that is not a whole number", async () => {
    for (const size of ["abc", "1e400", "-1", "2.5"]) await expect400(`/jobs?page_size=${size}`, /page_size must be/);
    expect((await fetch(`${s.transfer.url}/jobs?page_size=2`)).status).toBe(200);
  });
});

describe("with authentication on", () => {
  let a: AuthServices;
  beforeAll(async () => {
    a = await startAuthServices();
  });
  afterAll(async () => a?.close());

  it("an importer's upload for entity __proto__ is a 400 about the entity, not a 403 about importing Object", async () => {
    const headers = await as(["importer"], "ivan");
    for (const name of ["__proto__", "constructor"]) {
      const res = await fetch(`${a.transfer.url}/import`, { method: "POST", headers, body: upload({ format: "csv", entity: name }) });
      expect([name, res.status]).toEqual([name, 400]);
      expect(((await res.json()) as { message: string }).message).toContain("entity must be one of");
    }
  });
});
