/**
 * Bundle exports through a real transfer service (real FerretDB behind the
 * records service): several entities in one file over gRPC and Connect —
 * one XLSX/ODS workbook with a sheet per entity (the plugins in format
 * workers, their default), or a ZIP of one CSV/NDJSON per entity — as one
 * job with per-entity counts, the checksum of the whole file and one audit
 * event; and the refusals before any job exists.
 */
import { createHash } from "node:crypto";
import { strFromU8, unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { AuditAction } from "../../gen/dataexchange/audit/v1/audit_pb.js";
import { Entity } from "../../gen/dataexchange/records/v1/records_pb.js";
import { JobState, type ExportBundleRequestSchema, type ExportHeader, type ExportSummary } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import ods from "../../formats/ods/index.js";
import xlsx from "../../formats/xlsx/index.js";
import type { FormatPlugin } from "../../formats/_sdk/index.js";
import { readAll } from "../formats/support.js";
import { course, seed, session, startServices, user, type Services } from "./rpc/harness.js";

type TransferClient = Services["client"];
let s: Services;

beforeAll(async () => {
  s = await startServices();
  await seed(
    s.recordsClient,
    Entity.USERS,
    Array.from({ length: 12 }, (_, i) => user(`b${i}`)),
  );
  await seed(s.recordsClient, Entity.COURSES, [course("BUN-1"), course("BUN-2")]);
  await seed(
    s.recordsClient,
    Entity.SESSIONS,
    Array.from({ length: 3 }, (_, i) => session(`bs${i}`, `userb${i}`, "BUN-1")),
  );
});
afterAll(async () => s?.close());

async function exportBundle(client: TransferClient, request: MessageInitShape<typeof ExportBundleRequestSchema>) {
  let header: ExportHeader | undefined;
  let summary: ExportSummary | undefined;
  const chunks: Uint8Array[] = [];
  const order: string[] = [];
  for await (const response of client.exportBundle(request)) {
    const event = response.event;
    if (event.case) order.push(event.case);
    if (event.case === "header") header = event.value;
    else if (event.case === "chunk") chunks.push(event.value);
    else if (event.case === "summary") summary = event.value;
  }
  if (!header || !summary) throw new Error(`incomplete export: ${order.join(",")}`);
  return { header, summary, bytes: Buffer.concat(chunks), order };
}

const suspended = { statuses: ["suspended"] };

describe.each([
  ["xlsx", xlsx],
  ["ods", ods],
] as const)("a %s bundle", (format, plugin: FormatPlugin) => {
  it("is one workbook with a sheet per entity, each with its own fields and filter, counted per entity", async () => {
    const { header, summary, bytes, order } = await exportBundle(s.client, {
      format,
      parts: [
        { entity: Entity.USERS, fields: ["username", "status"], filter: suspended },
        { entity: Entity.COURSES, fields: ["code", "title"] },
        { entity: Entity.SESSIONS, fields: ["sessionId", "score"] },
      ],
    });
    expect(order[0]).toBe("header");
    expect(order.at(-1)).toBe("summary");
    expect(header.mimeType).toBe(plugin.mimeType);
    expect(header.fileName).toMatch(new RegExp(`^bundle-\\d{8}-\\d{6}\\.${format}$`));
    expect(header.parts.map((p) => [p.entity, p.name, p.columns.map((c) => c.key)])).toEqual([
      [Entity.USERS, "users", ["username", "status"]],
      [Entity.COURSES, "courses", ["code", "title"]],
      [Entity.SESSIONS, "sessions", ["sessionId", "score"]],
    ]);
    expect(summary.parts.map((p) => [p.name, p.records])).toEqual([
      ["users", 1n],
      ["courses", 2n],
      ["sessions", 3n],
    ]);
    expect(summary.records).toBe(6n);
    expect(summary.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));

    const users = await readAll(plugin, bytes, { options: { sheet: "users" } });
    expect(users.rows.map((r) => r.values)).toEqual([{ Username: "userb7", Status: "suspended" }]);
    const courses = await readAll(plugin, bytes, { options: { sheet: "courses" } });
    expect(courses.rows.map((r) => Object.values(r.values))).toEqual([
      ["BUN-1", "Course BUN-1"],
      ["BUN-2", "Course BUN-2"],
    ]);
    const sessions = await readAll(plugin, bytes, { options: { sheet: "sessions" } });
    expect(sessions.rows.map((r) => Object.values(r.values)[0])).toEqual(["bs0", "bs1", "bs2"]);
  });
});

describe("a bundle in a row format", () => {
  it("is a ZIP of one file per entity (users.csv, courses.csv), the job recording each entity's count and the audit event naming every part", async () => {
    const { header, summary, bytes } = await exportBundle(s.connectJson, {
      format: "csv",
      parts: [
        { entity: Entity.USERS, fields: ["username"], filter: { statuses: ["active"] }, sort: [{ field: "username" }], limit: 2n },
        { entity: Entity.COURSES, fields: ["code"] },
      ],
    });
    expect(header.mimeType).toBe("application/zip");
    expect(header.fileName).toMatch(/^bundle-\d{8}-\d{6}\.zip$/);
    const files = Object.fromEntries(Object.entries(unzipSync(bytes)).map(([k, v]) => [k, strFromU8(v)]));
    expect(Object.keys(files)).toEqual(["users.csv", "courses.csv"]);
    expect(files["users.csv"]).toBe("Username\r\nuserb0\r\nuserb1\r\n");
    expect(files["courses.csv"]).toMatch(/^[^\r\n]+\r\nBUN-1\r\nBUN-2\r\n$/);
    expect(summary.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));

    const { job } = await s.client.getJob({ jobId: summary.jobId });
    expect(job).toMatchObject({ state: JobState.SUCCEEDED, sha256: summary.sha256, bytes: BigInt(bytes.byteLength) });
    expect(job?.counts?.exported).toBe(4n);
    expect(job?.parts.map((p) => [p.entity, p.name, p.records])).toEqual([
      [Entity.USERS, "users.csv", 2n],
      [Entity.COURSES, "courses.csv", 2n],
    ]);
    const stored = await s.transferDb.db.collection("jobs").findOne({ _id: summary.jobId as never });
    expect(stored?.parts).toEqual([
      { entity: "users", name: "users.csv", exported: 2, filter: '{"statuses":["active"]}', fields: ["username"], limit: 2 },
      { entity: "courses", name: "courses.csv", exported: 2, fields: ["code"] },
    ]);

    const { events } = await s.client.listAuditEvents({ filter: { action: AuditAction.EXPORT } });
    const event = events.find((e) => e.jobId === summary.jobId);
    expect(event?.counts?.exported).toBe(4n);
    expect(JSON.parse(event!.filter)).toEqual({
      bundle: [
        { entity: "users", filter: { statuses: ["active"] }, fields: ["username"], limit: 2 },
        { entity: "courses", fields: ["code"] },
      ],
    });
  });

  it("keeps nested values in NDJSON files named after the entity", async () => {
    const { bytes, summary } = await exportBundle(s.client, { format: "ndjson", parts: [{ entity: Entity.COURSES, fields: ["code", "visible"] }] });
    const files = unzipSync(bytes);
    expect(Object.keys(files)).toEqual(["courses.ndjson"]);
    expect(
      strFromU8(files["courses.ndjson"]!)
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { code: "BUN-1", visible: true },
      { code: "BUN-2", visible: true },
    ]);
    expect(summary.parts.map((p) => p.records)).toEqual([2n]);
  });
});

describe("a bundle request that cannot be exported", () => {
  const refused = async (request: MessageInitShape<typeof ExportBundleRequestSchema>) => {
    const error = await exportBundle(s.client, request).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    return { code: error?.code, message: error?.rawMessage };
  };

  it("is refused with INVALID_ARGUMENT before a job exists: no parts, an entity twice, an unknown field, an unknown format option", async () => {
    const before = await s.transferDb.db.collection("jobs").countDocuments();
    expect(await refused({ format: "csv", parts: [] })).toEqual({ code: Code.InvalidArgument, message: expect.stringContaining("at least one entity") });
    expect(await refused({ format: "csv", parts: [{ entity: Entity.USERS }, { entity: Entity.USERS }] })).toEqual({
      code: Code.InvalidArgument,
      message: expect.stringContaining("names users twice"),
    });
    expect((await refused({ format: "csv", parts: [{ entity: Entity.COURSES }, { entity: Entity.USERS, fields: ["nope"] }] })).code).toBe(Code.InvalidArgument);
    expect((await refused({ format: "xlsx", formatOptions: { nope: 1 }, parts: [{ entity: Entity.USERS }] })).code).toBe(Code.InvalidArgument);
    expect((await refused({ format: "csv", parts: [{ entity: Entity.UNSPECIFIED }] })).code).toBe(Code.InvalidArgument);
    expect(await s.transferDb.db.collection("jobs").countDocuments()).toBe(before);
  });
});

describe("GET /export/{format}?bundle=…", () => {
  const get = (query: string) => fetch(`${s.transfer.url}/export/${query}`);

  it("downloads a ZIP of per-entity CSVs, each entity's settings under its prefix, with the job id and the checksum", async () => {
    const res = await get("csv?bundle=users,courses&users.fields=username&users.status=suspended&courses.fields=code&courses.sort=-code&courses.limit=1");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/zip");
    expect(res.headers.get("content-disposition")).toMatch(/bundle-\d{8}-\d{6}\.zip/);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const files = Object.fromEntries(Object.entries(unzipSync(bytes)).map(([k, v]) => [k, strFromU8(v)]));
    expect(files).toEqual({ "users.csv": "Username\r\nuserb7\r\n", "courses.csv": expect.stringMatching(/^[^\r\n]+\r\nBUN-2\r\n$/) });
    const { job } = await s.client.getJob({ jobId: res.headers.get("x-job-id")! });
    expect(job?.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
    expect(job?.counts?.exported).toBe(2n);
  });

  it("downloads an XLSX workbook with a sheet per entity, and HEAD answers its headers without a job", async () => {
    const res = await get("xlsx?bundle=courses,sessions&sessions.fields=sessionId");
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect((await readAll(xlsx, bytes, { options: { sheet: "sessions" } })).rows).toHaveLength(3);
    expect((await readAll(xlsx, bytes, { options: { sheet: "courses" } })).rows).toHaveLength(2);
    const jobs = await s.transferDb.db.collection("jobs").countDocuments();
    const head = await fetch(`${s.transfer.url}/export/xlsx?bundle=courses,sessions`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")?.startsWith(xlsx.mimeType)).toBe(true);
    expect(await s.transferDb.db.collection("jobs").countDocuments()).toBe(jobs);
  });

  it.each([
    ["an unprefixed records parameter", "csv?bundle=users&fields=email", /unknown query parameter "fields"/],
    ["entity beside bundle", "csv?bundle=users&entity=users", /unknown query parameter "entity"/],
    ["changed_since", "csv?bundle=users&changed_since=2024-01-01T00:00:00Z", /unknown query parameter "changed_since"/],
    ["a prefix for an entity not in the bundle", "csv?bundle=users&courses.fields=code", /courses\.fields is for courses, which the bundle does not name/],
    ["an unknown entity", "csv?bundle=users,teachers", /bundle: .*teachers/],
    ["an entity twice", "csv?bundle=users,users", /names an entity twice/],
    ["no entity", "csv?bundle=", /bundle names no entity/],
    ["a bad part setting", "csv?bundle=users&users.limit=-1", /users: limit must be a whole number/],
    ["an unknown field of a part", "xlsx?bundle=courses,users&users.fields=nope", /nope/],
  ])("is refused with 400 before anything is written: %s", async (_what, query, message) => {
    const jobs = await s.transferDb.db.collection("jobs").countDocuments();
    const res = await get(query);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(message);
    expect(await s.transferDb.db.collection("jobs").countDocuments()).toBe(jobs);
  });
});
