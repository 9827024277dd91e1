/**
 * Every query parameter and format option the service does not understand is
 * refused with 400, naming it and listing the accepted ones — never ignored.
 * The job JSON's camelCase spellings get a hint to the parameter's name.
 * Format options are checked for every plugin in formats/, so a new plugin is
 * covered the moment its folder exists.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { Entity } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { exportFile, importFile, seed, startServices, user, type Services } from "../rpc/harness.js";

let s: Services;
let jobId = "";
let formats: { name: string; canRead: boolean; canWrite: boolean }[] = [];

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
  formats = (await s.client.listFormats({})).formats.map((f) => ({ name: f.name, canRead: f.canRead, canWrite: f.canWrite }));
});
afterAll(async () => s?.close());

/**
 * Expects a 400 naming the problem. A parameter the route does not take is
 * refused before a job exists; a setting only the job can judge (a column
 * label, a format option) ends the job `failed` with the same message.
 */
async function refused(path: string, message: RegExp, method = "GET", job: "none" | "failed" = "none"): Promise<void> {
  const before = await s.transferDb.db.collection("jobs").countDocuments();
  const res = await fetch(`${s.transfer.url}${path}`, { method });
  expect([path, res.status]).toEqual([path, 400]);
  if (method !== "HEAD") {
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe("invalid_argument");
    expect(body.message).toMatch(message);
  }
  expect(await s.transferDb.db.collection("jobs").countDocuments()).toBe(job === "none" ? before : before + 1);
  if (job === "failed") {
    const last = await s.transferDb.db.collection("jobs").find().sort({ createdAt: -1 }).limit(1).next();
    expect(last).toMatchObject({ state: "failed", errorCode: "invalid_argument", error: expect.stringMatching(message) });
  }
}

describe("query parameters of GET /export/{format}", () => {
  it("refuses an unknown one, listing the accepted ones (GET and HEAD)", async () => {
    await refused(
      "/export/csv?entity=users&bogus=1",
      /unknown query parameter "bogus" for an export of records; accepted: source, fields, labels, options, limit, from, to, entity, changed_since, time_field, sort, status, role, user_id, course_id, session_id, action$/,
    );
    await refused("/export/csv?entity=users&bogus=1", /bogus/, "HEAD");
  });

  it("points the job JSON's spellings to the parameter's name", async () => {
    await refused("/export/csv?entity=users&statuses=active", /"statuses" \(did you mean status\?\)/);
    await refused("/export/csv?entity=sessions&userIds=user1", /"userIds" \(did you mean user_id\?\)/);
    await refused("/export/csv?entity=users&from=2024-01-01&timeField=createdAt", /"timeField" \(did you mean time_field\?\)/);
    await refused("/export/csv?entity=users&formatOptions={}", /"formatOptions" \(did you mean options\?\)/);
  });

  it("refuses a single-valued parameter given twice, and a time_field without a range", async () => {
    await refused("/export/csv?entity=users&entity=courses", /entity may be given only once/);
    await refused("/export/csv?entity=users&limit=1&limit=2", /limit may be given only once/);
    await refused("/export/csv?entity=users&time_field=createdAt", /time_field names the field that from and to apply to/);
  });

  it("refuses the records filters on an export of the audit trail", async () => {
    await refused("/export/csv?source=audit&status=active", /unknown query parameter "status" for an export of the audit trail \(source=audit\); accepted: .*subject, action$/);
    await refused("/export/csv?source=audit&sort=-time", /"sort"/);
  });

  it("refuses labels for columns the export does not have", async () => {
    await refused(
      `/export/csv?entity=users&fields=username,email&labels=${encodeURIComponent('{"emial":"Mail","username":"Login"}')}`,
      /labels name a column this export does not have: "emial"; its columns are username, email/,
      "GET",
      "failed",
    );
    const ok = await fetch(`${s.transfer.url}/export/csv?entity=users&fields=username,email&labels=${encodeURIComponent('{"email":"Mail","username":"Login"}')}`);
    expect((await ok.text()).split("\r\n")[0]).toBe("Login,Mail");
  });
});

describe("percent-encoding of the query", () => {
  it("refuses bytes that are not UTF-8, which the URL parser would read as U+FFFD and filter on another name", async () => {
    // %E9 is a Latin-1 "é": read leniently, user_id "\uFFFDl\uFFFDve" matches nothing and the export is an empty file, answered 200.
    await refused("/export/csv?entity=sessions&user_id=%E9l%E8ve", /^the query parameter "user_id" is not valid percent-encoding of UTF-8/);
    await refused("/jobs?subject=Jos%E9", /^the query parameter "subject" is not valid percent-encoding of UTF-8/);
    await refused("/export/csv?entity=sessions&user_id=100%", /^the query parameter "user_id" is not valid percent-encoding of UTF-8 \(a % must be followed by two hex digits/);
    await refused("/export/csv?entity=users&fields=username&r%FFle=x", /^the query parameter "r%FFle" is not valid/);
  });

  it("takes UTF-8, + for a space and escaped delimiters as they are meant", async () => {
    const res = await fetch(`${s.transfer.url}/export/csv?entity=sessions&fields=sessionId%2CuserId&user_id=%C3%A9l%C3%A8ve+un`);
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await res.text()).split("\r\n")[0]).toBe("Session id,User id");
  });
});

describe("query parameters of the job pages", () => {
  it("refuses unknown ones on /jobs, /jobs/{id} and /jobs/{id}/failed-rows", async () => {
    await refused(
      "/jobs?pageSize=2",
      /unknown query parameter "pageSize" \(did you mean page_size\?\) for GET \/jobs; accepted: subject, entity, state, kind, from, to, request_id, page_size, page_token$/,
    );
    await refused("/jobs?bogus=1", /"bogus"/);
    await refused(`/jobs/${jobId}?view=full`, /unknown query parameter "view" for GET \/jobs\/\{id\}; accepted: $/);
    await refused(`/jobs/${jobId}/failed-rows?bogus=1`, /unknown query parameter "bogus" for GET \/jobs\/\{id\}\/failed-rows/);
  });
});

describe("format options, for every plugin in formats/", () => {
  it("an export with an option the format does not have is refused, naming it and listing the format's options", async () => {
    const writers = formats.filter((f) => f.canWrite);
    expect(writers.map((f) => f.name)).toEqual(expect.arrayContaining(["csv", "json", "ndjson"]));
    for (const { name } of writers) {
      await refused(
        `/export/${name}?entity=users&options=${encodeURIComponent('{"noSuchOption":1}')}`,
        new RegExp(`unknown option "noSuchOption" for the ${name} format; its options are `),
        "GET",
        "failed",
      );
      const rpc = await exportFile(s.client, { entity: Entity.USERS, format: name, formatOptions: { noSuchOption: 1 } }).catch((e: unknown) => ConnectError.from(e));
      expect(rpc).toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining('"noSuchOption"') });
    }
  });

  it("an import with an option the format does not have is refused before a record is written", async () => {
    const count = async () => Number((await s.recordsClient.countRecords({ entity: Entity.USERS })).count);
    const before = await count();
    for (const { name } of formats.filter((f) => f.canRead)) {
      const form = new FormData();
      form.append("format", name);
      form.append("entity", "users");
      form.append("options", '{"noSuchOption":1}');
      form.append("file", new Blob(["email,username\nopt@example.org,opt\n"]), "users.txt");
      const res = await fetch(`${s.transfer.url}/import`, { method: "POST", body: form });
      expect([name, res.status]).toEqual([name, 400]);
      expect(((await res.json()) as { message: string }).message).toMatch(new RegExp(`unknown option "noSuchOption" for the ${name} format`));
      const rpc = await importFile(s.client, { entity: Entity.USERS, format: name, formatOptions: { delimitr: ";" } }, "email;username\n").catch((e: unknown) => ConnectError.from(e));
      expect(rpc).toMatchObject({ code: Code.InvalidArgument, rawMessage: expect.stringContaining('"delimitr"') });
      expect((rpc as ConnectError).findDetails !== undefined).toBe(true);
    }
    expect(await count()).toBe(before);
  });
});
