/**
 * Bundle imports through a real transfer service (real FerretDB behind the
 * records service): a ZIP of one CSV per entity or a workbook with a sheet
 * per entity, uploaded to `POST /import?bundle=true`, imported in dependency
 * order as one job with per-part counts; strict across the whole bundle
 * (enrollments that name users of the same bundle pass validation, one bad
 * row anywhere writes nothing anywhere); lenient writing what is valid; and
 * everything refused before a record is written — names the import does not
 * understand, settings it does not take, parts the caller may not import,
 * zip bombs.
 */
import { strFromU8, unzipSync, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { Entity, EntityRecordSchema } from "../../gen/dataexchange/records/v1/records_pb.js";
import { JobKind, JobState, type ImportBundleSummary } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { importBundleJob } from "../../services/transfer/jobs/import-bundle-job.js";
import type { Caller } from "../../services/transfer/caller.js";
import { course, seed, session, startServices, user, type Services } from "./rpc/harness.js";

let source: Services;
let target: Services;

function enrollment(userId: string, courseId: string, role = "student") {
  return create(EntityRecordSchema, { kind: { case: "enrollment", value: { userId, courseId, role, status: "active" } } } as MessageInitShape<typeof EntityRecordSchema>);
}

beforeAll(async () => {
  [source, target] = await Promise.all([startServices(), startServices()]);
  await seed(
    source.recordsClient,
    Entity.USERS,
    Array.from({ length: 6 }, (_, i) => user(`rt${i}`)),
  );
  await seed(source.recordsClient, Entity.COURSES, [course("RT-1"), course("RT-2")]);
  await seed(
    source.recordsClient,
    Entity.ENROLLMENTS,
    Array.from({ length: 6 }, (_, i) => enrollment(`userrt${i}`, i % 2 ? "RT-1" : "RT-2", i === 0 ? "teacher" : "student")),
  );
});
afterAll(async () => Promise.all([source?.close(), target?.close()]));

/** The fields compared after a round trip: what a bundle carries (not the server-set updatedAt). */
const COMPARED = "users.fields=email,username,firstName,lastName,role,status,createdAt&courses.fields=code,title,visible&enrollments.fields=userId,courseId,role,status,enrolledAt";

async function exportBundle(s: Services, format: string, query = COMPARED): Promise<Buffer> {
  const res = await fetch(`${s.transfer.url}/export/${format}?bundle=users,courses,enrollments&${query}&users.sort=email&enrollments.sort=userId`);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

function zipEntries(bytes: Uint8Array): Record<string, string> {
  return Object.fromEntries(Object.entries(unzipSync(bytes)).map(([name, data]) => [name, strFromU8(data)]));
}

type Fields = Record<string, string>;

interface BundleAnswer {
  status: number;
  body: {
    jobId?: string;
    message?: string;
    code?: string;
    read?: number;
    inserted?: number;
    failed?: number;
    strictAborted?: boolean;
    state?: string;
    parts?: { entity: string; name: string; counts: Record<string, number> }[];
    errors?: { part?: string; row: number; column?: string; code: string; reason: string }[];
  };
}

async function importBundle(s: Services, file: Uint8Array, fileName: string, fields: Fields = {}, headers: Record<string, string> = {}): Promise<BundleAnswer> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append("file", new Blob([file]), fileName);
  const res = await fetch(`${s.transfer.url}/import?bundle=true`, { method: "POST", body: form, headers });
  return { status: res.status, body: (await res.json()) as BundleAnswer["body"] };
}

async function count(s: Services, entity: Entity): Promise<number> {
  return Number((await s.recordsClient.countRecords({ entity })).count);
}

async function counts(s: Services): Promise<number[]> {
  return Promise.all([Entity.USERS, Entity.COURSES, Entity.ENROLLMENTS].map((e) => count(s, e)));
}

const enc = (text: string) => new TextEncoder().encode(text);

/** A ZIP of CSV files, entries in the order given. */
function csvZip(files: Record<string, string>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, enc(text)])));
}

/** One part's rejected rows over GetFailedRows. */
async function collectFailedRows(s: Services, jobId: string, part: string): Promise<{ fileName: string; chunks: string }> {
  let fileName = "";
  const parts: Uint8Array[] = [];
  for await (const response of s.client.getFailedRows({ jobId, part })) {
    if (response.fileName) fileName = response.fileName;
    parts.push(response.chunk);
  }
  return { fileName, chunks: Buffer.concat(parts).toString("utf8") };
}

describe("a bundle exported from one store and imported into an empty one", () => {
  it("as a ZIP of CSV files gives the same users, courses and enrollments", async () => {
    const bundle = await exportBundle(source, "csv");
    const { status, body } = await importBundle(target, bundle, "bundle.zip", { strict: "true" });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.parts?.map((p) => [p.entity, p.name, p.counts.inserted])).toEqual([
      ["users", "users.csv", 6],
      ["courses", "courses.csv", 2],
      ["enrollments", "enrollments.csv", 6],
    ]);
    expect(zipEntries(await exportBundle(target, "csv"))).toEqual(zipEntries(bundle));
  });

  it("as an XLSX workbook gives the same records, and the job counts each sheet", async () => {
    // The CSV round trip above filled the target: these are updates of the same records, none changed.
    const workbook = await exportBundle(source, "xlsx");
    const { status, body } = await importBundle(target, workbook, "bundle.xlsx", { strict: "true", "users.mode": "upsert", "courses.mode": "upsert", "enrollments.mode": "upsert" });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.parts?.map((p) => [p.name, p.counts.read, p.counts.unchanged])).toEqual([
      ["users", 6, 6],
      ["courses", 2, 2],
      ["enrollments", 6, 6],
    ]);
    expect(zipEntries(await exportBundle(target, "csv"))).toEqual(zipEntries(await exportBundle(source, "csv")));
    const job = (await target.client.getJob({ jobId: body.jobId! })).job!;
    expect(job.kind).toBe(JobKind.IMPORT);
    expect(job.state).toBe(JobState.SUCCEEDED);
    expect(job.parts.map((p) => [p.entity, p.name, Number(p.counts?.read)])).toEqual([
      [Entity.USERS, "users", 6],
      [Entity.COURSES, "courses", 2],
      [Entity.ENROLLMENTS, "enrollments", 6],
    ]);
    // One audit event for the bundle, naming each part.
    const { events } = await target.client.listAuditEvents({ pageSize: 50 });
    const event = events.find((e) => e.jobId === body.jobId);
    expect(JSON.parse(event!.filter)).toEqual({
      bundle: [
        { entity: "users", name: "users", mode: "upsert" },
        { entity: "courses", name: "courses", mode: "upsert" },
        { entity: "enrollments", name: "enrollments", mode: "upsert" },
      ],
    });
  });
});

describe("bundle jobs in the job list", () => {
  /** Exports a users, courses and enrollments bundle from the source and imports it into the target; the import's job id. */
  async function bundleRoundTrip(fileName: string, headers: Record<string, string> = {}): Promise<string> {
    const bundle = await exportBundle(source, "csv");
    const { status, body } = await importBundle(target, bundle, fileName, { strict: "true", "users.mode": "upsert", "courses.mode": "upsert", "enrollments.mode": "upsert" }, headers);
    expect(status, JSON.stringify(body)).toBe(200);
    return body.jobId!;
  }

  it("are found by ListJobs under each entity they hold, imports and exports, and not under the others", async () => {
    const jobId = await bundleRoundTrip("listed.zip");
    for (const entity of [Entity.USERS, Entity.COURSES, Entity.ENROLLMENTS])
      expect(
        (await target.client.listJobs({ entity, kind: JobKind.IMPORT, pageSize: 500 })).jobs.map((j) => j.id),
        Entity[entity],
      ).toContain(jobId);
    expect((await target.client.listJobs({ entity: Entity.SESSIONS, pageSize: 500 })).jobs.map((j) => j.id)).not.toContain(jobId);
    const exports = (await source.client.listJobs({ entity: Entity.ENROLLMENTS, kind: JobKind.EXPORT, pageSize: 500 })).jobs;
    expect(exports.some((j) => j.parts.some((p) => p.entity === Entity.ENROLLMENTS))).toBe(true);
    expect((await source.client.listJobs({ entity: Entity.SESSIONS, kind: JobKind.EXPORT, pageSize: 500 })).jobs.filter((j) => j.parts.length > 0)).toEqual([]);
  });

  it("keep the upload's X-Request-Id, and are found by it", async () => {
    const jobId = await bundleRoundTrip("named.zip", { "x-request-id": "bundle-request-1" });
    expect((await target.client.listJobs({ requestId: "bundle-request-1" })).jobs.map((j) => [j.id, j.requestId, j.fileName])).toEqual([[jobId, "bundle-request-1", "named.zip"]]);
    const refused = await importBundle(target, csvZip({ "users.csv": "email\n" }), "refused.zip", {}, { "x-request-id": "not one" });
    expect(refused.status).toBe(400);
  });

  it("refuse a bundle whose file part declares a charset other than UTF-8: its entries carry their own", async () => {
    const form = new FormData();
    form.append("file", new Blob([csvZip({ "users.csv": "email,username\nzipcharset@example.org,zipcharset\n" })], { type: "application/zip;charset=windows-1252" }), "declared.zip");
    const res = await fetch(`${target.transfer.url}/import?bundle=true`, { method: "POST", body: form });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/^the file part declares charset=windows-1252, but a bundle is a ZIP or a workbook/);
    expect((await target.client.listJobs({ pageSize: 500 })).jobs.map((j) => j.fileName)).not.toContain("declared.zip");
  });

  it("have audit events found by ListAuditEvents under each entity they hold, and not under the others", async () => {
    const jobId = await bundleRoundTrip("audited.zip");
    for (const entity of [Entity.USERS, Entity.COURSES, Entity.ENROLLMENTS])
      expect(
        (await target.client.listAuditEvents({ filter: { entity: Entity[entity]!.toLowerCase() }, pageSize: 500 })).events.map((e) => e.jobId),
        Entity[entity],
      ).toContain(jobId);
    expect((await target.client.listAuditEvents({ filter: { entity: "sessions" }, pageSize: 500 })).events.map((e) => e.jobId)).not.toContain(jobId);
    const exported = (await source.client.listAuditEvents({ filter: { entity: "courses" }, pageSize: 500 })).events;
    expect(exported.some((e) => e.filter.startsWith('{"bundle":'))).toBe(true);
  });
});

describe("an ODS workbook bundle", () => {
  it("is read sheet by sheet as the XLSX one is", async () => {
    const workbook = await exportBundle(source, "ods");
    const { status, body } = await importBundle(target, workbook, "bundle.ods", { strict: "true", "users.mode": "upsert", "courses.mode": "upsert", "enrollments.mode": "upsert" });
    expect(status, JSON.stringify(body)).toBe(200);
    // New or unchanged, as the tests before it left the target: never updated, never failed.
    expect(body.parts?.map((p) => [p.name, p.counts.read, (p.counts.inserted ?? 0) + (p.counts.unchanged ?? 0), p.counts.failed])).toEqual([
      ["users", 6, 6, 0],
      ["courses", 2, 2, 0],
      ["enrollments", 6, 6, 0],
    ]);
    expect(zipEntries(await exportBundle(target, "csv"))).toEqual(zipEntries(await exportBundle(source, "csv")));
  });
});

const USERS = "email,username\nann@example.org,ann\nbob@example.org,bob\n";
const COURSES = "code,title\nDEP-1,Dependencies\n";

describe("a bundle's dependency order", () => {
  it("imports users and courses before the enrollments that name them, whatever order the ZIP lists them in", async () => {
    const before = await counts(target);
    const zip = csvZip({ "enrollments.csv": "userId,courseId\nann,DEP-1\nbob,DEP-1\n", "users.csv": USERS, "courses.csv": COURSES });
    for (const strict of ["true", "false"]) {
      const { status, body } = await importBundle(target, zip, "dep.zip", { strict, "users.mode": "upsert", "courses.mode": "upsert", "enrollments.mode": "upsert" });
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body.parts?.map((p) => p.entity)).toEqual(["users", "courses", "enrollments"]);
      expect(body.failed).toBe(0);
    }
    expect(await counts(target)).toEqual([before[0]! + 2, before[1]! + 1, before[2]! + 2]);
  });
});

describe("a strict bundle", () => {
  it("with one bad enrollment row writes nothing of any part, and names the part and row", async () => {
    const before = await counts(target);
    const zip = csvZip({
      "users.csv": "email,username\ncat@example.org,cat\ndan@example.org,dan\n",
      "courses.csv": "code,title\nSTR-1,Strict\n",
      "enrollments.csv": "userId,courseId,role\ncat,STR-1,student\ndan,STR-1,wizard\n",
    });
    const { status, body } = await importBundle(target, zip, "strict.zip", { strict: "true" });
    expect(status, JSON.stringify(body)).toBe(422);
    expect(body.strictAborted).toBe(true);
    expect(body.errors).toEqual([expect.objectContaining({ part: "enrollments.csv", row: 2, column: "role", code: "invalid" })]);
    expect(await counts(target)).toEqual(before);
    // The enrollment of cat, whose user is only in the bundle, passed validation: its one error is dan's role.
    expect(body.parts?.find((p) => p.entity === "enrollments")?.counts.failed).toBe(1);
    const errors = await (await fetch(`${target.transfer.url}/jobs/${body.jobId}/failed-rows?view=errors`)).text();
    expect(errors.split("\r\n")[0]).toBe("part,row,line,column,value,reason,code");
    expect(errors).toContain("enrollments.csv,2,3,role,wizard,");
    // One part's rejected rows, in its own file's columns, to fix and import again.
    const rows = await fetch(`${target.transfer.url}/jobs/${body.jobId}/failed-rows?part=enrollments.csv`);
    expect(rows.status).toBe(200);
    expect(rows.headers.get("content-disposition")).toContain(`job-${body.jobId}-enrollments-failed-rows.csv`);
    const lines = (await rows.text()).trim().split(/\r?\n/);
    expect(lines[0]).toBe("userId,courseId,role,_row,_line,_errors");
    expect(lines.slice(1)).toEqual([expect.stringMatching(/^dan,STR-1,wizard,2,3,/)]);
    // Without a part the rows view does not guess which.
    const unnamed = await fetch(`${target.transfer.url}/jobs/${body.jobId}/failed-rows`);
    expect(unnamed.status).toBe(400);
    expect(((await unnamed.json()) as { message: string }).message).toMatch(/name the part whose rows you want \(part=…: users\.csv, courses\.csv, enrollments\.csv\)/);
  });

  it("with an enrollment naming a user neither stored nor in the bundle writes nothing", async () => {
    const before = await counts(target);
    const zip = csvZip({ "users.csv": "email,username\neve@example.org,eve\n", "enrollments.csv": "userId,courseId\nnobody,DEP-1\n" });
    const { status, body } = await importBundle(target, zip, "dangling.zip", { strict: "true" });
    expect(status).toBe(422);
    expect(body.errors).toEqual([expect.objectContaining({ part: "enrollments.csv", row: 1, column: "userId", code: "missing_reference" })]);
    expect(await counts(target)).toEqual(before);
  });
});

describe("a dry run of a bundle", () => {
  it("says what each part would do, its enrollments naming users only the bundle holds, and writes nothing", async () => {
    const before = await counts(target);
    const zip = csvZip({ "users.csv": "email,username\njon@example.org,jon\n", "courses.csv": "code,title\nDRY-1,Dry\n", "enrollments.csv": "userId,courseId\njon,DRY-1\n" });
    for (const strict of ["true", "false"]) {
      const { status, body } = await importBundle(target, zip, "dry.zip", { strict, dry_run: "true" });
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body.state).toBe("succeeded");
      expect(body.parts?.map((p) => [p.entity, p.counts.inserted, p.counts.failed])).toEqual([
        ["users", 1, 0],
        ["courses", 1, 0],
        ["enrollments", 1, 0],
      ]);
    }
    expect(await counts(target)).toEqual(before);
  });
});

describe("a strict bundle whose later part fails only when written", () => {
  it("undoes the parts written before it, and says so", async () => {
    // A stored session: inserting it again fails — a check the records service makes only once
    // the session's user (new, in the bundle) is stored, so validation could not see it.
    await seed(target.recordsClient, Entity.USERS, [user("undo0")]);
    await seed(target.recordsClient, Entity.COURSES, [course("UNDO-C")]);
    await seed(target.recordsClient, Entity.SESSIONS, [session("UNDO-S1", "userundo0", "UNDO-C")]);
    const before = await counts(target);
    const zip = csvZip({
      "users.csv": "email,username\nhal@example.org,hal\n",
      "sessions.csv": "sessionId,userId,courseId,startedAt,status\nUNDO-S1,hal,UNDO-C,2024-03-01T10:00:00Z,completed\n",
    });
    const { status, body } = await importBundle(target, zip, "undo.zip", { strict: "true" });
    expect(status, JSON.stringify(body)).toBe(422);
    expect(body.strictAborted).toBe(true);
    expect(body.message).toMatch(/sessions\.csv: 1 row\(s\) were rejected when written; the parts written before were undone \(1 record\(s\) deleted, 0 restored\)/);
    expect(body.errors).toEqual([expect.objectContaining({ part: "sessions.csv", row: 1, code: "exists" })]);
    expect(await counts(target)).toEqual(before);
    const job = (await target.client.getJob({ jobId: body.jobId! })).job!;
    expect(job.revertibleUntil).toBeUndefined();
  });
});

describe("a bundle import over the ImportBundle RPC", () => {
  it("takes per-part settings and reports each part, and RevertImport undoes every part", async () => {
    const before = await counts(target);
    const zip = csvZip({ "enrollments.csv": "User;Course\nivy;RPC-1\n", "courses.csv": "code,title\nRPC-1,Over RPC\n", "users.csv": "email,username\nivy@example.org,ivy\n" });
    const requests = (async function* () {
      yield {
        message: {
          case: "header" as const,
          value: {
            strict: true,
            fileName: "rpc.zip",
            parts: [
              {
                entity: Entity.ENROLLMENTS,
                formatOptions: { delimiter: ";" },
                mappings: [
                  { source: "User", field: "userId" },
                  { source: "Course", field: "courseId" },
                ],
              },
            ],
          },
        },
      };
      for (let i = 0; i < zip.length; i += 100) yield { message: { case: "chunk" as const, value: zip.subarray(i, i + 100) } };
    })();
    const cases: string[] = [];
    let summary: ImportBundleSummary | undefined;
    for await (const response of target.connectJson.importBundle(requests)) {
      if (response.event.case) cases.push(response.event.case);
      if (response.event.case === "summary") summary = response.event.value;
    }
    expect(cases[0]).toBe("started");
    expect(cases.at(-1)).toBe("summary");
    expect(summary?.state).toBe(JobState.SUCCEEDED);
    expect(summary?.container).toBe("zip");
    expect(summary?.parts.map((p) => [p.entity, p.name, p.format, Number(p.counts?.inserted)])).toEqual([
      [Entity.USERS, "users.csv", "csv", 1],
      [Entity.COURSES, "courses.csv", "csv", 1],
      [Entity.ENROLLMENTS, "enrollments.csv", "csv", 1],
    ]);
    expect(await counts(target)).toEqual([before[0]! + 1, before[1]! + 1, before[2]! + 1]);

    const revert = await target.client.revertImport({ jobId: summary!.jobId });
    expect(revert.job?.state).toBe(JobState.SUCCEEDED);
    expect(Number(revert.job?.counts?.deleted)).toBe(3);
    expect(await counts(target)).toEqual(before);
  });

  it("refuses settings for one entity given twice", async () => {
    const requests = (async function* () {
      yield { message: { case: "header" as const, value: { parts: [{ entity: Entity.USERS }, { entity: Entity.USERS }] } } };
    })();
    const error = await (async () => {
      for await (const _ of target.client.importBundle(requests));
    })().then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(error?.code).toBe(Code.InvalidArgument);
    expect(error?.rawMessage).toMatch(/names users twice/);
  });
});

describe("a lenient bundle", () => {
  it("writes each part's valid rows and reports a row that names a user rejected in an earlier part", async () => {
    const before = await counts(target);
    const zip = csvZip({
      "enrollments.csv": "userId,courseId\nfay,DEP-1\ngus,DEP-1\n",
      "users.csv": "email,username\nfay@example.org,fay\nnot-an-email,gus\n",
    });
    const { status, body } = await importBundle(target, zip, "lenient.zip", { strict: "false" });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.errors).toEqual([
      expect.objectContaining({ part: "users.csv", row: 2, column: "email", code: "invalid" }),
      expect.objectContaining({ part: "enrollments.csv", row: 2, column: "userId", code: "missing_reference" }),
    ]);
    expect(body.parts?.map((p) => [p.name, p.counts.inserted, p.counts.failed])).toEqual([
      ["users.csv", 1, 1],
      ["enrollments.csv", 1, 1],
    ]);
    expect(await counts(target)).toEqual([before[0]! + 1, before[1]!, before[2]! + 1]);
    const { chunks } = await collectFailedRows(target, body.jobId!, "users");
    expect(chunks.trim().split(/\r?\n/)).toEqual(["email,username,_row,_line,_errors", expect.stringMatching(/^not-an-email,gus,2,3,/)]);
  });
});

describe("a bundle the import does not understand", () => {
  const refusals: [string, Uint8Array, Fields, RegExp][] = [
    ["an entry not named after an entity", csvZip({ "users.csv": USERS, "grades.csv": "a\n1\n" }), {}, /entry "grades\.csv" is not an entity/],
    ["an entity twice", csvZip({ "users.csv": USERS, "users.ndjson": '{"email":"x@example.org","username":"x"}\n' }), {}, /holds users twice/],
    ["an entry in a folder", csvZip({ "data/users.csv": USERS }), {}, /entry "data\/users\.csv" is in a folder/],
    ["an extension no format reads", csvZip({ "users.pdf": USERS }), {}, /extension \.pdf, which no loaded format reads/],
    ["settings for an entity the bundle does not hold", csvZip({ "users.csv": USERS }), { "courses.mode": "upsert" }, /settings are given for courses, which the bundle does not hold/],
    ["an unknown settings prefix", csvZip({ "users.csv": USERS }), { "grades.mode": "upsert" }, /unknown form field "grades\.mode"/],
    ["an unprefixed mode", csvZip({ "users.csv": USERS }), { mode: "upsert" }, /unknown form field "mode"/],
    ["an unknown setting of an entity", csvZip({ "users.csv": USERS }), { "users.format": "csv" }, /unknown form field "users\.format"/],
    ["a bad mapping of a part", csvZip({ "users.csv": USERS }), { "users.mapping": '[{"source":"email","feld":"email"}]' }, /users\.mapping is invalid/],
    [
      "a mapping onto no field, in a later part of a lenient bundle",
      csvZip({ "users.csv": "email,username\nzed@example.org,zed\n", "courses.csv": COURSES }),
      { strict: "false", "courses.mapping": '[{"source":"code","field":"kode"}]' },
      /^courses\.csv: .*kode/,
    ],
    ["a file that is no ZIP", enc(USERS), {}, /the bundle is refused: not a bundle/],
  ];
  it.each(refusals)("is refused with 400 before anything is written: %s", async (_what, file, fields, message) => {
    const before = await counts(target);
    const { status, body } = await importBundle(target, file, "refused.zip", fields);
    expect(status, JSON.stringify(body)).toBe(400);
    expect(body.message).toMatch(message);
    expect(body.jobId).toBeUndefined();
    expect(await counts(target)).toEqual(before);
  });

  it("is refused when its workbook holds a sheet that is not an entity", async () => {
    const workbook = await exportBundle(source, "xlsx");
    // Rename the courses sheet inside the workbook's own list of sheets.
    const files = unzipSync(workbook);
    files["xl/workbook.xml"] = enc(strFromU8(files["xl/workbook.xml"]!).replace('name="courses"', 'name="Notes"'));
    const { status, body } = await importBundle(target, zipSync(files), "notes.xlsx");
    expect(status).toBe(400);
    expect(body.message).toMatch(/sheet "Notes" is not an entity/);
  });

  it("is refused as a whole when one part's entity is one the caller may not import", async () => {
    const zip = csvZip({ "users.csv": USERS, "enrollments.csv": "userId,courseId\nann,DEP-1\n" });
    const caller: Caller = {
      subject: "limited",
      audit: { subject: "limited" } as Caller["audit"],
      principal: { subject: "limited", roles: ["custom"], issuer: "test", expiresAt: new Date(Date.now() + 60_000), permissions: new Set(["import:users", "validate:users"]) },
    };
    const before = await counts(target);
    const run = async () => {
      for await (const _ of importBundleJob(
        target.transfer.context,
        { dryRun: false, parts: {} },
        (async function* () {
          yield zip;
        })(),
        caller,
      ));
    };
    const error = await run().then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(error?.code).toBe(Code.PermissionDenied);
    expect(error?.rawMessage).toMatch(/"enrollments\.csv"/);
    expect(await counts(target)).toEqual(before);
  });
});

describe("a zip bomb", () => {
  let limited: Services;
  beforeAll(async () => {
    limited = await startServices({ config: { bundleMaxEntries: 8, bundleMaxUnpackedMb: 3, bundleMaxRatio: 100 } });
  });
  afterAll(async () => limited?.close());

  const csvOf = (size: number) => {
    const text = new Uint8Array(size).fill(0x20);
    text.set(enc("email,username\n"));
    return text;
  };
  const bombs: [string, () => Uint8Array, RegExp][] = [
    ["an entry that unpacks out of proportion", () => zipSync({ "users.csv": csvOf(2 * 1024 * 1024) }, { level: 9 }), /unpacks \d+ times its size, more than the limit of 100/],
    [
      "entries that unpack to more than the total",
      () => zipSync(Object.fromEntries(["users", "courses", "sessions", "enrollments"].map((e) => [`${e}.csv`, csvOf(1_000_000)])), { level: 0 }),
      /unpacks to more than 3145728 bytes/,
    ],
    ["more entries than the limit", () => zipSync(Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`users${i}.csv`, enc("a\n")]))), /lists 9 entries, more than the limit of 8/],
  ];
  it.each(bombs)("is refused with 400 naming the limit, writing nothing and starting no job: %s", async (_what, build, message) => {
    const { status, body } = await importBundle(limited, build(), "bomb.zip");
    expect(status, JSON.stringify(body)).toBe(400);
    expect(body.message).toMatch(/^the bundle is refused: refused: /);
    expect(body.message).toMatch(message);
    expect(await count(limited, Entity.USERS)).toBe(0);
    expect((await limited.client.listJobs({})).jobs).toEqual([]);
  });
});
