/**
 * The audit trail of both services, with authentication on: who exported and
 * imported what (transfer service), who put, deleted and wrote records
 * (records service), listed by auditors with filters and pages, exported
 * through the normal export path, append-only (no RPC ever updates or deletes
 * an event: every collection method is watched while all of them run), and
 * free of passwords.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Collection } from "mongodb";
import { AuditAction, AuditOutcome, type AuditEvent } from "../../../gen/dataexchange/audit/v1/audit_pb.js";
import { Entity, WriteMode } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { ExportSource } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { courseRecord, userRecord } from "../../records/fixtures.js";
import { course, exportFile, importFile, seed, startServices, user, type Services } from "../rpc/harness.js";
import { adminRecordsClient, as, asAtRecords, startAuthServices, type AuthServices } from "../auth/auth-harness.js";

const SECRET = "Audit-Secret-Pass-42!";
const MUTATORS = [
  "updateOne",
  "updateMany",
  "replaceOne",
  "deleteOne",
  "deleteMany",
  "findOneAndUpdate",
  "findOneAndReplace",
  "findOneAndDelete",
  "bulkWrite",
  "insertMany",
  "drop",
  "rename",
] as const;
const mutations: string[] = [];
/** Every watched call on any collection, to show the watch works. */
const watched = new Set<string>();
let s: AuthServices;
let t0: Date;

beforeAll(async () => {
  // Watch every collection method that could change or remove a document of audit_events.
  for (const name of MUTATORS) {
    const original = Collection.prototype[name] as (...args: unknown[]) => unknown;
    vi.spyOn(Collection.prototype, name).mockImplementation(function (this: Collection, ...args: unknown[]) {
      watched.add(`${this.collectionName}.${name}`);
      if (this.collectionName === "audit_events") mutations.push(name);
      return original.apply(this, args);
    } as never);
  }
  t0 = new Date();
  s = await startAuthServices();
  await seed(adminRecordsClient(s.records.url), Entity.COURSES, ["AUD-1", "AUD-2", "AUD-3"].map(course));
  await seed(adminRecordsClient(s.records.url), Entity.USERS, [user(1), user(2)]);
});
afterAll(async () => {
  vi.restoreAllMocks();
  await s?.close();
});

async function transferEvents(filter: Record<string, unknown> = {}, pageSize = 500): Promise<AuditEvent[]> {
  return (await s.client.listAuditEvents({ filter, pageSize }, { headers: await as(["auditor"], "audrey") })).events;
}

async function recordsEvents(filter: Record<string, unknown> = {}, roles = ["auditor"]): Promise<AuditEvent[]> {
  return (await s.recordsClient.listAuditEvents({ filter, pageSize: 500 }, { headers: await asAtRecords(roles, "audrey") })).events;
}

describe("the transfer service's trail", () => {
  it("records who exported what: subject, entity, format, filter, fields, counts, outcome, job and client address", async () => {
    const result = await exportFile(s.client, { entity: Entity.COURSES, format: "csv", fields: ["code", "title"], filter: { courseIds: ["AUD-1", "AUD-2"] } }, await as(["exporter"], "eve"));
    const [event] = await transferEvents({ subject: "eve", action: AuditAction.EXPORT });
    expect(event).toMatchObject({
      service: "transfer",
      action: AuditAction.EXPORT,
      subject: "eve",
      onBehalfOf: "",
      roles: ["exporter"],
      entity: "courses",
      format: "csv",
      source: "records",
      fields: ["code", "title"],
      outcome: AuditOutcome.SUCCEEDED,
      jobId: result.header.jobId,
    });
    expect(event!.counts?.exported).toBe(2n);
    expect(JSON.parse(event!.filter)).toEqual({ courseIds: ["AUD-1", "AUD-2"] });
    expect(event!.clientAddress).toMatch(/127\.0\.0\.1|::1/);
    expect(event!.time!.seconds).toBeGreaterThanOrEqual(BigInt(Math.floor(t0.getTime() / 1000)));
  });

  it("records imports and dry runs with mode and counts, and a refused export as failed", async () => {
    await importFile(s.client, { entity: Entity.COURSES, format: "ndjson", mode: WriteMode.UPSERT }, '{"code":"AUD-4","title":"t"}\n{"code":"","title":"bad"}\n', {
      headers: await as(["importer"], "ivan"),
    });
    await importFile(s.client, { entity: Entity.COURSES, format: "ndjson", mode: WriteMode.INSERT, dryRun: true }, '{"code":"AUD-5","title":"t"}\n', { headers: await as(["importer"], "ivan") });
    const [dry, real] = await transferEvents({ subject: "ivan", action: AuditAction.IMPORT });
    expect(real).toMatchObject({ entity: "courses", format: "ndjson", mode: "upsert", dryRun: false, outcome: AuditOutcome.SUCCEEDED });
    expect(real!.counts).toMatchObject({ read: 2n, inserted: 1n, failed: 1n });
    expect(dry).toMatchObject({ mode: "insert", dryRun: true });

    await exportFile(s.client, { entity: Entity.USERS, format: "csv", fields: ["email"] }, await as(["exporter"], "nosy")).catch(() => undefined);
    const [refused] = await transferEvents({ subject: "nosy" });
    expect(refused).toMatchObject({ action: AuditAction.EXPORT, entity: "users", outcome: AuditOutcome.FAILED, errorCode: "permission_denied" });
  });

  it("filters by action, entity and time range, and pages", async () => {
    const exports = await transferEvents({ action: AuditAction.EXPORT });
    expect(exports.length).toBeGreaterThan(0);
    expect(new Set(exports.map((e) => e.action))).toEqual(new Set([AuditAction.EXPORT]));
    expect(new Set((await transferEvents({ entity: "users" })).map((e) => e.entity))).toEqual(new Set(["users"]));
    expect(await transferEvents({ to: timestampFromDate(t0) })).toEqual([]);
    const all = await transferEvents({ from: timestampFromDate(t0) });
    const headers = await as(["auditor"], "audrey");
    const first = await s.client.listAuditEvents({ pageSize: 2 }, { headers });
    expect(first.events).toHaveLength(2);
    const second = await s.client.listAuditEvents({ pageSize: 2, pageToken: first.nextPageToken }, { headers });
    expect([...first.events, ...second.events].map((e) => e.id)).toEqual(all.slice(0, 4).map((e) => e.id));
    await expect(s.client.listAuditEvents({ filter: { entity: "planets" } }, { headers })).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(s.client.listAuditEvents({ pageToken: "nope" }, { headers })).rejects.toMatchObject({ code: Code.InvalidArgument });
  });

  it("is exportable through the normal export path, over RPC and HTTP, for auditors", async () => {
    const file = await exportFile(
      s.client,
      { source: ExportSource.AUDIT_EVENTS, format: "csv", fields: ["action", "subject", "entity", "outcome"], auditFilter: { action: AuditAction.EXPORT, subject: "eve" } },
      await as(["auditor"], "audrey"),
    );
    expect(file.bytes.toString("utf8").trim().split("\r\n")).toEqual(["Action,Subject,Entity,Outcome", "export,eve,courses,succeeded"]);
    expect(file.header.fileName).toMatch(/^audit_events-\d{8}-\d{6}\.csv$/);
    const job = await s.client.getJob({ jobId: file.header.jobId }, { headers: await as(["auditor"], "audrey") });
    expect(job.job).toMatchObject({ source: ExportSource.AUDIT_EVENTS, entity: Entity.UNSPECIFIED, subject: "audrey", auditFilter: { action: AuditAction.EXPORT, subject: "eve" } });

    const res = await fetch(`${s.transfer.url}/export/ndjson?source=audit&action=import&subject=ivan`, { headers: await as(["auditor"], "audrey") });
    expect(res.status).toBe(200);
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.action, l.subject, l.entity])).toEqual([
      ["import", "ivan", "courses"],
      ["import", "ivan", "courses"],
    ]);
    // Exporting the trail is itself an export, and audited.
    const [self] = await transferEvents({ subject: "audrey", action: AuditAction.EXPORT });
    expect(self).toMatchObject({ source: "audit", entity: "", format: "ndjson" });
    // Settings of record exports do not apply to the trail.
    await expect(exportFile(s.client, { source: ExportSource.AUDIT_EVENTS, format: "csv", entity: Entity.USERS }, await as(["auditor"], "audrey"))).rejects.toMatchObject({
      code: Code.InvalidArgument,
    });
  });
});

describe("the records service's trail", () => {
  it("records every PutRecord and DeleteRecord, succeeded or failed, with the key", async () => {
    const headers = await asAtRecords(["admin"], "rita");
    await s.recordsClient.putRecord({ entity: Entity.COURSES, mode: WriteMode.UPSERT, record: courseRecord("PUT-1") }, { headers });
    await s.recordsClient.deleteRecord({ entity: Entity.COURSES, key: { parts: ["PUT-1"] } }, { headers });
    await s.recordsClient.deleteRecord({ entity: Entity.COURSES, key: { parts: ["NO-SUCH"] } }, { headers }).catch(() => undefined);
    await s.recordsClient.putRecord({ entity: Entity.COURSES, mode: WriteMode.UPSERT, record: courseRecord("bad code!") }, { headers }).catch(() => undefined);
    const events = await recordsEvents({ subject: "rita" });
    expect(events.map((e) => [e.action, e.recordKey.join("/"), e.outcome, e.errorCode])).toEqual([
      [AuditAction.PUT, "bad code!", AuditOutcome.FAILED, "invalid_argument"],
      [AuditAction.DELETE, "NO-SUCH", AuditOutcome.FAILED, "not_found"],
      [AuditAction.DELETE, "PUT-1", AuditOutcome.SUCCEEDED, ""],
      [AuditAction.PUT, "PUT-1", AuditOutcome.SUCCEEDED, ""],
    ]);
    expect(events[3]).toMatchObject({ service: "records", subject: "rita", roles: ["admin"], entity: "courses", mode: "upsert" });
    expect(events[3]!.counts?.inserted).toBe(1n);
    expect(events[2]!.counts?.deleted).toBe(1n);
  });

  it("records a WriteRecords call as one event per entity with summed counts, naming the service and the user it acted for", async () => {
    const result = await importFile(s.client, { entity: Entity.COURSES, format: "ndjson", mode: WriteMode.UPSERT }, '{"code":"W-1","title":"t"}\n{"code":"W-2","title":"t"}\n', {
      headers: await as(["importer"], "wendy"),
    });
    const [event] = await recordsEvents({ subject: "wendy", action: AuditAction.WRITE });
    expect(event).toMatchObject({ subject: "transfer-service", onBehalfOf: "wendy", roles: ["importer"], entity: "courses", mode: "upsert", jobId: result.jobId, outcome: AuditOutcome.SUCCEEDED });
    expect(event!.counts).toMatchObject({ inserted: 2n, batches: 1n });
    expect(await recordsEvents({ subject: "transfer-service", action: AuditAction.WRITE })).toEqual(expect.arrayContaining([event]));
  });

  it("is for auditors and admins only, and withholds users' emails (their key) from readers without pii", async () => {
    await expect(s.recordsClient.listAuditEvents({}, { headers: await asAtRecords(["exporter", "importer"]) })).rejects.toMatchObject({ code: Code.PermissionDenied });
    await s.recordsClient.putRecord({ entity: Entity.USERS, mode: WriteMode.UPSERT, record: userRecord("key", { password: SECRET }) }, { headers: await asAtRecords(["admin"], "uma") });
    const [plain] = await recordsEvents({ subject: "uma" });
    expect(plain!.recordKey.join()).not.toContain("@");
    const [withPii] = await recordsEvents({ subject: "uma" }, ["auditor", "pii"]);
    expect(withPii!.recordKey).toEqual(["userkey@example.org"]);
  });
});

describe("append-only, and no passwords", () => {
  it("no RPC or route of either service ever updated, replaced or deleted an audit event", async () => {
    // Everything above ran every kind of call; a cancel and an import of users with passwords too.
    await importFile(s.client, { entity: Entity.USERS, format: "csv", mode: WriteMode.UPSERT }, `email,username,firstName,lastName,role,password\npw1@example.org,pw1,P,W,student,${SECRET}\n`, {
      headers: await as(["admin", "pii"], "root"),
    });
    const jobs = await s.client.listJobs({ pageSize: 5 }, { headers: await as(["admin"], "root") });
    for (const job of jobs.jobs) await s.client.cancelJob({ jobId: job.id }, { headers: await as(["admin"], "root") });
    expect(mutations).toEqual([]);
    // The watch saw the jobs being updated (so it would have seen an audit event being updated).
    expect(watched).toContain("jobs.updateOne");
  });

  it("passwords appear in no audit event (stored or listed) and no exported trail", async () => {
    const stored = [...(await s.recordsDb.db.collection("audit_events").find().toArray()), ...(await s.transferDb.db.collection("audit_events").find().toArray())];
    expect(stored.length).toBeGreaterThan(10);
    expect(JSON.stringify(stored)).not.toContain(SECRET);
    expect(JSON.stringify(await recordsEvents({}, ["admin", "pii"]), (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))).not.toContain(SECRET);
    const res = await fetch(`${s.transfer.url}/export/json?source=audit`, { headers: await as(["admin", "pii"], "root") });
    const text = await res.text();
    expect(text).toContain('"action"');
    expect(text).not.toContain(SECRET);
  });
});

describe("exportLoggingEnabled", () => {
  let plain: Services;
  beforeAll(async () => {
    plain = await startServices({ config: { exportLoggingEnabled: false } });
    await seed(plain.recordsClient, Entity.COURSES, [course("LOG-1")]);
  });
  afterAll(async () => plain?.close());

  it("when false, exports append no event; imports and writes are still audited", async () => {
    await exportFile(plain.client, { entity: Entity.COURSES, format: "csv" });
    await importFile(plain.client, { entity: Entity.COURSES, format: "ndjson", mode: WriteMode.UPSERT }, '{"code":"LOG-2","title":"t"}\n');
    const events = (await plain.client.listAuditEvents({})).events;
    expect(events.map((e) => [e.action, e.subject])).toEqual([[AuditAction.IMPORT, "anonymous"]]);
    const writes = (await plain.recordsClient.listAuditEvents({ filter: { action: AuditAction.WRITE } })).events;
    expect(writes.length).toBeGreaterThanOrEqual(2); // the seed and the import
    const error = await plain.client.listAuditEvents({ filter: { action: 99 as AuditAction } }).catch((e: unknown) => ConnectError.from(e));
    expect(error).toMatchObject({ code: Code.InvalidArgument });
  });
});
