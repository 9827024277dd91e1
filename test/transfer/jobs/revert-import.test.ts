/**
 * Undoing an import on the real services (RevertImport over gRPC and Connect,
 * `POST /jobs/{id}/revert`): a revert job of its own, with counts, whose
 * refused records are row errors downloadable like failed rows; the import's
 * job says until when it is revertible and which revert undid it.
 */
import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Entity, EntityRecordSchema, WriteMode, WriteOutcome } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { ExportSource, JobKind, JobState } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { course, exportFile, importFile, seed, startServices, user, type Services } from "../rpc/harness.js";
import { adminRecordsClient, as, asAtRecords, startAuthServices, type AuthServices } from "../auth/auth-harness.js";

let s: Services;

beforeAll(async () => {
  s = await startServices();
});
afterAll(async () => s?.close());

const DAY = 24 * 60 * 60 * 1000;
const users = () => s.recordsDb.db.collection("users");
const courses = () => s.recordsDb.db.collection("courses");
const jobs = () => s.transferDb.db.collection("jobs");
const enrollment = (userId: string, courseId: string) => create(EntityRecordSchema, { kind: { case: "enrollment", value: { userId, courseId, role: "student", status: "active" } } });
const ndjson = (rows: object[]) => `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`;

async function refusal(promise: Promise<unknown>): Promise<ConnectError> {
  return promise.then(
    () => {
      throw new Error("expected a refusal");
    },
    (e: unknown) => ConnectError.from(e),
  );
}

async function importCourses(rows: object[], options: { mode?: WriteMode; strict?: boolean; dryRun?: boolean } = {}) {
  return importFile(s.client, { entity: Entity.COURSES, format: "ndjson", mode: options.mode ?? WriteMode.UPSERT, strict: options.strict ?? false, dryRun: options.dryRun ?? false }, ndjson(rows));
}

describe("reverting an import", () => {
  it("deletes the users it inserted and puts back those it changed, password hash included, as a revert job over gRPC", async () => {
    await seed(s.recordsClient, Entity.USERS, [user(101, { password: "seeded-password-1" }), user(102)]);
    const before = await users().findOne({ email: "user101@example.org" });
    const imported = await importFile(
      s.client,
      { entity: Entity.USERS, format: "ndjson", mode: WriteMode.UPSERT, strict: false },
      ndjson([
        { email: "user101@example.org", username: "user101", firstName: "Grace", lastName: "Changed", password: "imported-password-2" },
        { email: "user103@example.org", username: "user103", firstName: "New", lastName: "User" },
        { email: "not an email", username: "bad" },
      ]),
    );
    expect(imported.summary).toMatchObject({ inserted: 1n, updated: 1n, failed: 1n });
    const { job: importJob } = await s.client.getJob({ jobId: imported.jobId });
    const until = timestampDate(importJob!.revertibleUntil!).getTime();
    expect(until).toBeGreaterThan(Date.now() + 29 * DAY);
    expect(until).toBeLessThanOrEqual(Date.now() + 30 * DAY);

    const { job } = await s.client.revertImport({ jobId: imported.jobId });
    expect(job).toMatchObject({ kind: JobKind.REVERT, state: JobState.SUCCEEDED, revertOf: imported.jobId, entity: Entity.USERS });
    expect(job!.counts).toMatchObject({ restored: 1n, deleted: 1n, refused: 0n });
    expect((await s.client.getJob({ jobId: imported.jobId })).job?.revertedBy).toBe(job!.id);

    const after = await users().findOne({ email: "user101@example.org" });
    const { updatedAt: _a, ...restored } = after!;
    const { updatedAt: _b, ...original } = before!;
    expect(restored).toEqual(original);
    expect(await users().countDocuments({ email: "user103@example.org" })).toBe(0);
    // The records service itself finds the seeded password stored again: sending it changes nothing.
    const put = await s.recordsClient.putRecord({ entity: Entity.USERS, mode: WriteMode.UPSERT, dryRun: true, record: user(101, { password: "seeded-password-1" }) });
    expect(put.outcome).toBe(WriteOutcome.UNCHANGED);
    // The deletion is a tombstone, so an incremental export of deletions follows the revert.
    const deletions = await exportFile(s.client, { source: ExportSource.DELETIONS, entity: Entity.USERS, format: "csv" });
    expect(deletions.bytes.toString("utf8")).toContain("user103@example.org");
  });

  it("undoes a strict import's committed writes the same way, over Connect", async () => {
    await seed(s.recordsClient, Entity.COURSES, [course("STR-1")]);
    const imported = await importCourses(
      [
        { code: "STR-1", title: "Changed by strict" },
        { code: "STR-2", title: "New" },
      ],
      { strict: true },
    );
    expect(imported.summary).toMatchObject({ inserted: 1n, updated: 1n, strictAborted: false });
    const { job } = await s.connectJson.revertImport({ jobId: imported.jobId });
    expect(job!.counts).toMatchObject({ restored: 1n, deleted: 1n, refused: 0n });
    expect((await courses().findOne({ code: "STR-1" }))!.title).toBe("Course STR-1");
    expect(await courses().countDocuments({ code: "STR-2" })).toBe(0);
  });

  it("refuses a record changed since the import, leaves it as it is, and lists it like a failed row, over HTTP", async () => {
    await seed(s.recordsClient, Entity.COURSES, [course("CH-1")]);
    const imported = await importCourses([
      { code: "CH-1", title: "By the import" },
      { code: "CH-2", title: "Inserted" },
    ]);
    await new Promise((r) => setTimeout(r, 5));
    await seed(s.recordsClient, Entity.COURSES, [{ ...course("CH-1"), kind: { case: "course", value: { ...course("CH-1").kind.value!, title: "Edited later" } } } as never]);
    const res = await fetch(`${s.transfer.url}/jobs/${imported.jobId}/revert`, { method: "POST" });
    expect(res.status).toBe(200);
    const job = (await res.json()) as { id: string; kind: string; counts: Record<string, number>; errors: { value: string; reason: string; code: string; column: string }[] };
    expect(job).toMatchObject({ kind: "revert", counts: { restored: 0, deleted: 1, refused: 1 } });
    expect(job.errors).toEqual([expect.objectContaining({ row: 1, column: "code", value: "CH-1", reason: "changed since the import", code: "changed" })]);
    expect((await courses().findOne({ code: "CH-1" }))!.title).toBe("Edited later");
    const rows = await fetch(`${s.transfer.url}/jobs/${job.id}/failed-rows`);
    expect(rows.status).toBe(200);
    expect(await rows.text()).toContain("CH-1,changed since the import,changed");
  });

  it("refuses to delete a user it inserted that other records now reference", async () => {
    const imported = await importFile(s.client, { entity: Entity.USERS, format: "ndjson", mode: WriteMode.INSERT }, ndjson([{ email: "ref1@example.org", username: "ref1" }]));
    await seed(s.recordsClient, Entity.COURSES, [course("REF-C")]);
    await seed(s.recordsClient, Entity.ENROLLMENTS, [enrollment("ref1", "REF-C")]);
    const { job } = await s.client.revertImport({ jobId: imported.jobId });
    expect(job!.counts).toMatchObject({ deleted: 0n, refused: 1n });
    expect(job!.errors[0]).toMatchObject({ value: "ref1@example.org", reason: 'enrollments still reference it by userId "ref1"', code: "referenced" });
    expect(await users().countDocuments({ username: "ref1" })).toBe(1);
  });

  it("may run again after a revert that failed, and goes on where that one stopped", async () => {
    await seed(s.recordsClient, Entity.COURSES, [course("RETRY-0")]);
    const imported = await importCourses([
      { code: "RETRY-0", title: "changed" },
      { code: "RETRY-1", title: "t" },
      { code: "RETRY-2", title: "t" },
    ]);
    const first = await s.client.revertImport({ jobId: imported.jobId });
    expect(first.job!.counts).toMatchObject({ restored: 1n, deleted: 2n });
    // As if it had failed part-way (the records service went away): its import may be reverted again.
    await jobs().updateOne({ _id: first.job!.id as never }, { $set: { state: "failed" } });
    const second = await s.client.revertImport({ jobId: imported.jobId });
    expect(second.job).toMatchObject({ state: JobState.SUCCEEDED, revertOf: imported.jobId });
    // What the first one settled is not touched again: the restored course is not "changed since the import".
    expect(second.job!.counts).toMatchObject({ restored: 0n, deleted: 0n, refused: 0n });
    expect((await s.client.getJob({ jobId: imported.jobId })).job?.revertedBy).toBe(second.job!.id);
  });
});

describe("a revert is refused, before any job exists,", () => {
  it("a second time, over gRPC and HTTP (412)", async () => {
    const imported = await importCourses([{ code: "TWICE-1", title: "t" }]);
    const first = await s.client.revertImport({ jobId: imported.jobId });
    const error = await refusal(s.client.revertImport({ jobId: imported.jobId }));
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.rawMessage).toBe(`import ${imported.jobId} was already reverted by job ${first.job!.id}`);
    const res = await fetch(`${s.transfer.url}/jobs/${imported.jobId}/revert`, { method: "POST" });
    expect(res.status).toBe(412);
    expect(await res.json()).toMatchObject({ code: "failed_precondition", message: expect.stringContaining("already reverted") });
  });

  it("for an export, a dry run, a revert, a running import and one whose before-images expired", async () => {
    const exported = await exportFile(s.client, { entity: Entity.COURSES, format: "csv" });
    const dry = await importCourses([{ code: "DRY-1", title: "t" }], { dryRun: true });
    const kept = await importCourses([{ code: "EXP-1", title: "t" }]);
    const reverted = await s.client.revertImport({ jobId: (await importCourses([{ code: "REV-1", title: "t" }])).jobId });
    const aborted = await importCourses([{ code: "ABORT-1", title: "t" }, { code: "" }], { strict: true });
    expect(aborted.summary?.strictAborted).toBe(true);
    const cases: [string, string][] = [
      [exported.header.jobId, "is an export, not an import"],
      [dry.jobId, "was a dry run: it wrote nothing to revert"],
      [reverted.job!.id, "is a revert, not an import"],
      [aborted.jobId, "kept nothing to revert"],
    ];
    for (const [jobId, message] of cases) {
      const error = await refusal(s.client.revertImport({ jobId }));
      expect([error.code, error.rawMessage]).toEqual([Code.FailedPrecondition, expect.stringContaining(message)]);
    }
    await jobs().updateOne({ _id: kept.jobId as never }, { $set: { state: "running" } });
    expect((await refusal(s.client.revertImport({ jobId: kept.jobId }))).rawMessage).toContain("is still running");
    await jobs().updateOne({ _id: kept.jobId as never }, { $set: { state: "succeeded", revertibleUntil: new Date(Date.now() - 1000) } });
    const expired = await refusal(s.client.revertImport({ jobId: kept.jobId }));
    expect([expired.code, expired.rawMessage]).toEqual([Code.FailedPrecondition, expect.stringContaining("can no longer be reverted")]);
    expect(await courses().countDocuments({ code: "EXP-1" })).toBe(1);
    expect(await jobs().countDocuments({ kind: "revert", revertOf: { $in: [kept.jobId, dry.jobId, exported.header.jobId] } })).toBe(0);
  });

  it("for an unknown job (NOT_FOUND), and over HTTP for a body, an unknown parameter or another method", async () => {
    expect((await refusal(s.client.revertImport({ jobId: "no-such-job" }))).code).toBe(Code.NotFound);
    const imported = await importCourses([{ code: "HTTP-1", title: "t" }]);
    const url = `${s.transfer.url}/jobs/${imported.jobId}/revert`;
    const withBody = await fetch(url, { method: "POST", body: '{"dry_run":true}' });
    expect([withBody.status, ((await withBody.json()) as { message: string }).message]).toEqual([400, expect.stringContaining("takes no body")]);
    const withParam = await fetch(`${url}?dry_run=true`, { method: "POST" });
    expect(withParam.status).toBe(400);
    expect((await fetch(url)).status).toBe(405);
    expect(await courses().countDocuments({ code: "HTTP-1" })).toBe(1);
  });
});

describe("with authentication", () => {
  let a: AuthServices;
  beforeAll(async () => {
    a = await startAuthServices();
  });
  afterAll(async () => a?.close());

  it("lets an importer revert their own import (the service forwarding them) but not an exporter, nor another user's", async () => {
    await seed(adminRecordsClient(a.records.url), Entity.COURSES, [course("AUTH-R1")]);
    const header = { entity: Entity.COURSES, format: "ndjson", mode: WriteMode.UPSERT, strict: false };
    const file = ndjson([{ code: "AUTH-R1", title: "Changed" }]);
    const mine = await importFile(a.client, header, file, { headers: await as(["importer"], "ivy") });
    const denied = await refusal(a.client.revertImport({ jobId: mine.jobId }, { headers: await as(["exporter"], "ivy") }));
    expect(denied.code).toBe(Code.PermissionDenied);
    const other = await refusal(a.client.revertImport({ jobId: mine.jobId }, { headers: await as(["importer"], "olaf") }));
    expect([other.code, other.rawMessage]).toEqual([Code.PermissionDenied, expect.stringContaining("belongs to another user")]);
    const res = await fetch(`${a.transfer.url}/jobs/${mine.jobId}/revert`, { method: "POST", headers: await as(["exporter"], "ivy") });
    expect(res.status).toBe(403);
    const { job } = await a.client.revertImport({ jobId: mine.jobId }, { headers: await as(["importer"], "ivy") });
    expect(job!.counts).toMatchObject({ restored: 1n, refused: 0n });
    expect((await a.recordsDb.db.collection("courses").findOne({ code: "AUTH-R1" }))!.title).toBe("Course AUTH-R1");
  });

  it("withholds refused users' emails at the records service from a caller without pii, and believes a job id only from the service", async () => {
    const header = { entity: Entity.USERS, format: "ndjson", mode: WriteMode.INSERT, strict: false };
    const imported = await importFile(a.client, header, ndjson([{ email: "kept@example.org", username: "kept1" }]), { headers: await as(["importer"], "ivy") });
    expect(imported.summary?.inserted).toBe(1n);
    await seed(adminRecordsClient(a.records.url), Entity.USERS, [user("kept1", { email: "kept@example.org", username: "kept1", lastName: "Edited" })]);
    const refused: string[][] = [];
    for await (const batch of a.recordsClient.revertWrites({ jobId: imported.jobId, entity: Entity.USERS }, { headers: await asAtRecords(["importer"], "ivy") })) {
      refused.push(...batch.refusals.map((r) => r.key?.parts ?? []));
    }
    expect(refused).toEqual([[]]);
    expect(
      await a.recordsClient
        .revertWrites({ jobId: imported.jobId, entity: Entity.USERS }, { headers: await asAtRecords(["exporter"], "ivy") })
        [Symbol.asyncIterator]()
        .next()
        .catch((e: unknown) => ConnectError.from(e).code),
    ).toBe(Code.PermissionDenied);
    // An end user naming a job in the header writes no before-images: only the service's word counts.
    const direct = a.recordsClient.writeRecords(
      (async function* () {
        yield { entity: Entity.COURSES, mode: WriteMode.INSERT, batchId: "1", records: [course("DIRECT-1")] };
      })(),
      { headers: { ...(await asAtRecords(["importer"], "ivy")), "x-dx-job-id": imported.jobId } },
    );
    for await (const response of direct) expect(response.revertibleUntil).toBeUndefined();
    expect(await a.recordsDb.db.collection("before_images").countDocuments({ entity: "courses", jobId: imported.jobId })).toBe(0);
  });
});
