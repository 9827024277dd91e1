/**
 * Incremental exports on the real services: a nightly job exports what
 * changed since the previous run's high-water mark — over gRPC, Connect and
 * the download URL — and the deletions since then, so a downstream copy can
 * follow exactly.
 */
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Entity } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { ExportSource } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { course, exportFile, seed, startServices, type Services } from "../rpc/harness.js";

let s: Services;
let overlapping: Services;

beforeAll(async () => {
  // No overlap: the tests write after each export, one step at a time, on one clock.
  s = await startServices({ config: { exportChangeOverlapSeconds: 0 } });
  overlapping = await startServices();
});
afterAll(async () => {
  await s?.close();
  await overlapping?.close();
});

const codes = (bytes: Uint8Array) =>
  Buffer.from(bytes)
    .toString("utf8")
    .trim()
    .split("\r\n")
    .slice(1)
    .map((line) => line.split(",")[0]);

async function refusal(promise: Promise<unknown>): Promise<ConnectError> {
  return promise.then(
    () => {
      throw new Error("expected a refusal");
    },
    (e: unknown) => ConnectError.from(e),
  );
}

describe("an export changed since the previous one's high-water mark", () => {
  it("gets only the records inserted or changed since, over gRPC, and nothing once nothing changed", async () => {
    await seed(s.recordsClient, Entity.COURSES, ["INC-1", "INC-2", "INC-3"].map(course));
    const first = await exportFile(s.client, { entity: Entity.COURSES, format: "csv", fields: ["code", "title"], filter: { keys: ["INC-1", "INC-2", "INC-3", "INC-4"].map((k) => ({ parts: [k] })) } });
    expect(codes(first.bytes)).toEqual(["INC-1", "INC-2", "INC-3"]);
    const mark = first.header.highWaterMark!;
    expect(mark).toBeDefined();
    expect(first.summary.highWaterMark).toEqual(mark);
    const { job } = await s.client.getJob({ jobId: first.header.jobId });
    expect(job?.highWaterMark).toEqual(mark);

    // The night's changes: one renamed, one new, one sent again as it was.
    await seed(s.recordsClient, Entity.COURSES, [
      { ...course("INC-2"), kind: { case: "course", value: { ...course("INC-2").kind.value!, title: "Renamed" } } } as never,
      course("INC-4"),
      course("INC-1"),
    ]);
    const next = await exportFile(s.client, { entity: Entity.COURSES, format: "csv", fields: ["code", "title"], changedSince: mark, sort: [{ field: "code" }] });
    expect(Buffer.from(next.bytes).toString("utf8").trim().split("\r\n")).toEqual(["Course code,Title", "INC-2,Renamed", "INC-4,Course INC-4"]);
    expect(next.summary.records).toBe(2n);
    expect((await s.client.getJob({ jobId: next.header.jobId })).job?.changedSince).toEqual(mark);

    const quiet = await exportFile(s.client, { entity: Entity.COURSES, format: "csv", changedSince: next.summary.highWaterMark });
    expect(quiet.summary.records).toBe(0n);
    expect(timestampDate(quiet.summary.highWaterMark!).getTime()).toBeGreaterThanOrEqual(timestampDate(next.summary.highWaterMark!).getTime());
  });

  it("works the same over Connect (JSON) and as a download whose x-high-water-mark is the next changed_since", async () => {
    await seed(s.recordsClient, Entity.COURSES, [course("WEB-1")]);
    const viaConnect = await exportFile(s.connectJson, { entity: Entity.COURSES, format: "ndjson", fields: ["code"] });
    await seed(s.recordsClient, Entity.COURSES, [course("WEB-2")]);
    const since = timestampDate(viaConnect.header.highWaterMark!).toISOString();
    const res = await fetch(`${s.transfer.url}/export/csv?entity=courses&fields=code&changed_since=${encodeURIComponent(since)}`);
    expect(res.status).toBe(200);
    expect((await res.text()).trim().split("\r\n")).toEqual(["Course code", "WEB-2"]);
    const nextMark = res.headers.get("x-high-water-mark")!;
    expect(new Date(nextMark).getTime()).toBeGreaterThan(new Date(since).getTime());
    const again = await fetch(`${s.transfer.url}/export/csv?entity=courses&fields=code&changed_since=${encodeURIComponent(nextMark)}`);
    expect((await again.text()).trim()).toBe("Course code");
  });

  it("lies the configured overlap before the export began (five minutes by default), so writes under way are not missed", async () => {
    const before = Date.now();
    const result = await exportFile(overlapping.client, { entity: Entity.COURSES, format: "csv" });
    const mark = timestampDate(result.header.highWaterMark!).getTime();
    expect(mark).toBeLessThanOrEqual(Date.now() - 300_000);
    expect(mark).toBeGreaterThanOrEqual(before - 300_000);
  });

  it("is not given for an export of the audit trail, which takes no changed_since", async () => {
    const audit = await exportFile(s.client, { source: ExportSource.AUDIT_EVENTS, format: "csv" });
    expect(audit.header.highWaterMark).toBeUndefined();
    const error = await refusal(exportFile(s.client, { source: ExportSource.AUDIT_EVENTS, format: "csv", changedSince: timestampFromDate(new Date()) }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toContain("changed_since applies to exports of records and of deletions");
    const res = await fetch(`${s.transfer.url}/export/csv?source=audit&changed_since=2026-01-01T00:00:00Z`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ message: expect.stringContaining("changed_since") });
  });
});

describe("an export of deletions", () => {
  it("lists the keys of the records deleted since the mark, oldest first, with when", async () => {
    await seed(s.recordsClient, Entity.COURSES, ["DEL-1", "DEL-2", "DEL-3"].map(course));
    await s.recordsClient.deleteRecord({ entity: Entity.COURSES, key: { parts: ["DEL-1"] } });
    const first = await exportFile(s.client, { source: ExportSource.DELETIONS, entity: Entity.COURSES, format: "csv" });
    expect(first.header.columns.map((c) => c.label)).toEqual(["Course code", "Deleted at"]);
    expect(codes(first.bytes)).toEqual(["DEL-1"]);
    expect(first.header.fileName).toMatch(/^courses-deletions-\d{8}-\d{6}\.csv$/);

    await s.recordsClient.deleteRecord({ entity: Entity.COURSES, key: { parts: ["DEL-3"] } });
    await s.recordsClient.deleteRecord({ entity: Entity.COURSES, key: { parts: ["DEL-2"] } });
    const since = timestampDate(first.header.highWaterMark!).toISOString();
    const res = await fetch(`${s.transfer.url}/export/json?source=deletions&entity=courses&changed_since=${encodeURIComponent(since)}`);
    expect(res.status).toBe(200);
    const rows = (await res.json()) as { code: string; deletedAt: string }[];
    expect(rows.map((r) => r.code)).toEqual(["DEL-3", "DEL-2"]);
    for (const row of rows) expect(new Date(row.deletedAt).getTime()).toBeGreaterThanOrEqual(new Date(since).getTime());
    expect(res.headers.get("x-high-water-mark")).toMatch(/^\d{4}-\d\d-\d\dT/);
    const job = (await (await fetch(`${s.transfer.url}/jobs/${res.headers.get("x-job-id")}`)).json()) as Record<string, unknown>;
    expect(job).toMatchObject({ source: "deletions", entity: "courses", counts: { exported: 2 } });
  });
});

describe("bad requests are refused before anything is read", () => {
  it("a changed_since in the future, or a time without its zone", async () => {
    const future = await refusal(exportFile(s.client, { entity: Entity.COURSES, format: "csv", changedSince: timestampFromDate(new Date(Date.now() + 3_600_000)) }));
    expect(future.code).toBe(Code.InvalidArgument);
    expect(future.rawMessage).toMatch(/changed_since .* is in the future/);
    for (const [value, reason] of [
      ["2026-12-01T10:00:00", "no time zone"],
      ["yesterday", "ISO 8601"],
      ["2999-01-01", "in the future"],
    ]) {
      const res = await fetch(`${s.transfer.url}/export/csv?entity=courses&changed_since=${value}`);
      expect(res.status, value).toBe(400);
      expect(((await res.json()) as { message: string }).message).toContain(reason);
    }
  });

  it("deletions of the append-only activity log, records' filters on deletions, and an unknown source", async () => {
    const activity = await fetch(`${s.transfer.url}/export/csv?source=deletions&entity=activity`);
    expect(activity.status).toBe(400);
    expect(((await activity.json()) as { message: string }).message).toContain("append-only");
    const filtered = await fetch(`${s.transfer.url}/export/csv?source=deletions&entity=courses&status=active`);
    expect(filtered.status).toBe(400);
    expect(((await filtered.json()) as { message: string }).message).toContain("status");
    const sorted = await refusal(exportFile(s.client, { source: ExportSource.DELETIONS, entity: Entity.COURSES, format: "csv", sort: [{ field: "code" }] }));
    expect(sorted.rawMessage).toContain("sort does not apply to an export of deletions");
    const unknown = await refusal(exportFile(s.client, { source: 99 as ExportSource, entity: Entity.COURSES, format: "csv" }));
    expect(unknown.code).toBe(Code.InvalidArgument);
    expect(unknown.rawMessage).toContain("source 99 is not an export source");
  });
});
