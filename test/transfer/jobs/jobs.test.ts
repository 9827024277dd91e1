/**
 * Jobs end to end: strict and lenient imports, dry runs, the job records and
 * their row errors, ListJobs filters and paging, CancelJob, a client that goes
 * away mid-export, the file size limit, and GetFailedRows.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Interceptor } from "@connectrpc/connect";
import { Entity, WriteMode, type WriteRecordsResponse } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { FailedRowsView, ImportHeaderSchema, JobKind, JobState, type ImportResponse } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { create } from "@bufbuild/protobuf";
import { openCursorCount } from "../../../services/records/store/record-reader.js";
import { eventually, exportFile, importFile, seed, startServices, SUBJECT_HEADER, user, type Services } from "../rpc/harness.js";
import { slowRecordStreams } from "../../support/slow-record-streams.js";

let s: Services;
const slowRecords = slowRecordStreams();

beforeAll(async () => {
  s = await startServices({ config: { importMaxFileMb: 0.05 }, recordsInterceptors: [slowRecords.interceptor] });
});
afterAll(async () => s?.close());

const goodAndBad = ["email,username,role", "strict1@example.org,strict1,student", "strict2@example.org,strict2,nobody", "strict3@example.org,strict3,teacher", ""].join("\r\n");

async function countUsers(prefix: string): Promise<number> {
  const { count } = await s.recordsClient.countRecords({ entity: Entity.USERS, filter: { keys: [1, 2, 3].map((i) => ({ parts: [`${prefix}${i}@example.org`] })) } });
  return Number(count);
}

describe("a strict import", () => {
  it("with a rejected row writes nothing and ends failed, saying why", async () => {
    const result = await importFile(s.client, { entity: Entity.USERS, format: "csv", strict: true }, goodAndBad);
    expect(result.summary).toMatchObject({ read: 3n, inserted: 0n, failed: 1n, strictAborted: true, state: JobState.FAILED });
    expect(result.rowErrors.map((e) => [e.row, e.column])).toEqual([[2n, "role"]]);
    expect(await countUsers("strict")).toBe(0);
    const { job } = await s.client.getJob({ jobId: result.jobId });
    expect(job).toMatchObject({ state: JobState.FAILED, strict: true, strictAborted: true, errorCount: 1n, errorCode: "failed_precondition" });
    expect(job?.error).toContain("nothing was written");
  });

  it("without rejected rows writes every row", async () => {
    const clean = goodAndBad.replace("nobody", "student");
    const result = await importFile(s.client, { entity: Entity.USERS, format: "csv", strict: true }, clean);
    expect(result.summary).toMatchObject({ inserted: 3n, failed: 0n, strictAborted: false, state: JobState.SUCCEEDED });
    expect(await countUsers("strict")).toBe(3);
  });
});

describe("a strict re-import of an exported file", () => {
  it("counts the rows stored as they are once and sends the records service for real only what changes", async () => {
    // What the records service wrote for real, summed from its answers (dry runs left out).
    const replayed = { records: 0 };
    const tally: Interceptor = (next) => async (req) => {
      const res = await next(req);
      if (!res.stream || req.method.name !== "WriteRecords") return res;
      const messages = res.message as AsyncIterable<WriteRecordsResponse>;
      return {
        ...res,
        message: (async function* () {
          for await (const m of messages) {
            if (!m.dryRun) replayed.records += m.inserted + m.updated + m.unchanged + m.skipped + m.failed;
            yield m;
          }
        })(),
      };
    };
    const own = await startServices({ config: { importBatchSize: 500, importWritesInFlight: 2 }, recordsInterceptors: [tally] });
    try {
      await seed(
        own.recordsClient,
        Entity.USERS,
        Array.from({ length: 1500 }, (_, i) => user(`again${i + 1}`)),
      );
      const exported = await exportFile(own.client, { entity: Entity.USERS, format: "csv" });
      const lines = exported.bytes.toString("utf8").split("\r\n");
      // The last 300 rows corrected (their last name), the other 1,200 as exported.
      const corrected = lines.map((line, i) => (i > 1200 && line !== "" ? line.replace(/Number again(\d+)/, "Corrected $1") : line)).join("\r\n");
      expect(corrected).not.toBe(exported.bytes.toString("utf8"));
      replayed.records = 0;
      const result = await importFile(own.client, { entity: Entity.USERS, format: "csv", strict: true, mode: WriteMode.UPSERT }, corrected);
      expect(result.summary).toMatchObject({ read: 1500n, inserted: 0n, updated: 300n, unchanged: 1200n, failed: 0n, strictAborted: false, state: JobState.SUCCEEDED });
      // Batches of 500, two in flight: the first two are staged whole before the first answer says
      // they change nothing; the third is staged after its dry run, only its 300 corrected rows.
      expect(replayed.records).toBe(1300);
      let correctedStored = 0;
      for await (const batch of own.recordsClient.streamRecords({ entity: Entity.USERS, fields: ["lastName"] })) {
        correctedStored += batch.records.filter((r) => r.kind.case === "user" && r.kind.value.lastName?.startsWith("Corrected")).length;
      }
      expect(correctedStored).toBe(300);
    } finally {
      await own.close();
    }
  });
});

describe("a lenient import", () => {
  it("writes the good rows and reports the bad one", async () => {
    const file = goodAndBad.replaceAll("strict", "lenient");
    const result = await importFile(s.client, { entity: Entity.USERS, format: "csv", strict: false }, file);
    expect(result.summary).toMatchObject({ read: 3n, inserted: 2n, failed: 1n, strictAborted: false, state: JobState.SUCCEEDED });
    expect(await countUsers("lenient")).toBe(2);
  });

  it("takes the configured default when the header does not say", async () => {
    const strictByDefault = await startServices({ config: { strictImportByDefault: true } });
    try {
      const result = await importFile(strictByDefault.client, { entity: Entity.USERS, format: "csv" }, goodAndBad.replaceAll("strict", "dflt"));
      expect(result.summary).toMatchObject({ strictAborted: true, inserted: 0n });
    } finally {
      await strictByDefault.close();
    }
  });
});

describe("a dry run", () => {
  it("reports what would happen and writes nothing, in lenient and strict mode", async () => {
    const file = goodAndBad.replaceAll("strict", "dry");
    const lenient = await importFile(s.client, { entity: Entity.USERS, format: "csv", dryRun: true }, file);
    expect(lenient.summary).toMatchObject({ read: 3n, inserted: 2n, failed: 1n, dryRun: true, state: JobState.SUCCEEDED });
    const strict = await importFile(s.client, { entity: Entity.USERS, format: "csv", dryRun: true, strict: true }, file);
    expect(strict.summary).toMatchObject({ dryRun: true, strictAborted: true, failed: 1n });
    expect(await countUsers("dry")).toBe(0);
    const { job } = await s.client.getJob({ jobId: lenient.jobId });
    expect(job).toMatchObject({ dryRun: true, state: JobState.SUCCEEDED });
  });
});

describe("the file size limit", () => {
  it("ends an RPC import with RESOURCE_EXHAUSTED and a failed job that says which limit", async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => `limit${i}@example.org,limit${i}`).join("\n");
    const events: ImportResponse[] = [];
    const error = await (async () => {
      const requests = (async function* () {
        yield { message: { case: "header" as const, value: create(ImportHeaderSchema, { entity: Entity.USERS, format: "csv" }) } };
        const bytes = Buffer.from(`email,username\n${rows}\n`);
        for (let i = 0; i < bytes.length; i += 4096) yield { message: { case: "chunk" as const, value: bytes.subarray(i, i + 4096) } };
      })();
      for await (const r of s.client.import(requests)) events.push(r);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.ResourceExhausted);
    expect((error as ConnectError).rawMessage).toContain("file size limit of 0.05 MiB");
    const jobId = (events[0]!.event.value as { jobId: string }).jobId;
    const { job } = await s.client.getJob({ jobId });
    expect(job).toMatchObject({ state: JobState.FAILED, errorCode: "resource_exhausted" });
  });
});

describe("jobs", () => {
  it("are listed newest first, filtered by subject, kind, entity, state and date, and paged", async () => {
    const start = new Date(Date.now() - 1000);
    for (let i = 0; i < 5; i++) {
      await importFile(s.client, { entity: Entity.COURSES, format: "ndjson", mode: WriteMode.UPSERT }, `{"code":"JOB-${i}","title":"t"}\n`, { headers: { [SUBJECT_HEADER]: "alice" } });
    }
    const all = await s.client.listJobs({ subject: "alice" });
    expect(all.jobs).toHaveLength(5);
    expect(all.jobs.every((j) => j.subject === "alice" && j.kind === JobKind.IMPORT && j.entity === Entity.COURSES)).toBe(true);
    const created = all.jobs.map((j) => Number(j.createdAt!.seconds) * 1000 + j.createdAt!.nanos / 1e6);
    expect([...created].sort((a, b) => b - a)).toEqual(created);

    const seen: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const page = await s.client.listJobs({ subject: "alice", pageSize: 2, pageToken });
      seen.push(...page.jobs.map((j) => j.id));
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken);
    expect(pages).toBe(3);
    expect(seen).toEqual(all.jobs.map((j) => j.id));

    expect((await s.client.listJobs({ subject: "alice", kind: JobKind.EXPORT })).jobs).toHaveLength(0);
    expect((await s.client.listJobs({ subject: "alice", entity: Entity.USERS })).jobs).toHaveLength(0);
    expect((await s.client.listJobs({ subject: "alice", state: JobState.SUCCEEDED })).jobs).toHaveLength(5);
    expect((await s.client.listJobs({ subject: "alice", createdFrom: timestampFromDate(start) })).jobs).toHaveLength(5);
    expect((await s.client.listJobs({ subject: "alice", createdTo: timestampFromDate(start) })).jobs).toHaveLength(0);
    const bad = await s.client.listJobs({ pageToken: "garbage" }).catch((e: unknown) => e);
    expect((bad as ConnectError).code).toBe(Code.InvalidArgument);
  });

  it("keep every row error and stream them back as CSV with GetFailedRows' errors view", async () => {
    const lines = ["email,username"];
    for (let i = 0; i < 250; i++) lines.push(i % 2 === 0 ? `fail${i}@example.org,fail${i}` : `not-an-email-${i},fail${i}`);
    const result = await importFile(s.client, { entity: Entity.USERS, format: "csv" }, `${lines.join("\n")}\n`);
    expect(result.summary).toMatchObject({ failed: 125n, inserted: 125n });
    const { job } = await s.client.getJob({ jobId: result.jobId });
    expect(job?.errors).toHaveLength(100);
    expect(job?.errorCount).toBe(125n);
    const parts: Uint8Array[] = [];
    for await (const r of s.connectJson.getFailedRows({ jobId: result.jobId, view: FailedRowsView.ERRORS })) parts.push(r.chunk);
    const csv = Buffer.concat(parts).toString("utf8").trim().split("\r\n");
    expect(csv[0]).toBe("row,line,column,value,reason,code");
    expect(csv).toHaveLength(126);
    expect(csv[1]).toMatch(/^2,3,email,not-an-email-1,.+,invalid$/);
    const missing = await (async () => {
      for await (const _ of s.client.getFailedRows({ jobId: "nope" })) {
        // nothing
      }
    })().catch((e: unknown) => e);
    expect((missing as ConnectError).code).toBe(Code.NotFound);
  });

  it("give back the rejected rows themselves with GetFailedRows (the default view): the upload's header and cells, plus _row, _line and _errors", async () => {
    const csv = "email;username;password\nok@example.org;ok1;long enough secret\nnot-an-email;bad1;another long secret\n";
    const result = await importFile(s.client, { entity: Entity.USERS, format: "csv" }, csv);
    expect(result.summary).toMatchObject({ failed: 1n, inserted: 1n });
    const parts: Uint8Array[] = [];
    let mimeType = "";
    let fileName = "";
    for await (const r of s.client.getFailedRows({ jobId: result.jobId })) {
      parts.push(r.chunk);
      mimeType ||= r.mimeType;
      fileName ||= r.fileName;
    }
    expect(mimeType).toBe("text/csv");
    expect(fileName).toBe(`job-${result.jobId}-failed-rows.csv`);
    const text = Buffer.concat(parts).toString("utf8");
    // The sniffed ";" is kept, and the password is never stored: its cell is empty and _errors says so.
    expect(text.split("\r\n")[0]).toBe("email;username;password;_row;_line;_errors");
    expect(text.split("\r\n")[1]).toBe('not-an-email;bad1;;2;3;"email: must be a valid email address; password: withheld (never kept in clear); enter it again"');
    expect(text).not.toContain("another long secret");
    const exported = await s.client.listJobs({ kind: JobKind.EXPORT, pageSize: 1 });
    if (exported.jobs[0]) {
      const refused = await (async () => {
        for await (const _ of s.client.getFailedRows({ jobId: exported.jobs[0]!.id })) {
          // nothing
        }
      })().catch((e: unknown) => e);
      expect((refused as ConnectError).code).toBe(Code.FailedPrecondition);
    }
  });

  it("can be cancelled while running, and the import call ends CANCELLED", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const requests = (async function* () {
      yield { message: { case: "header" as const, value: create(ImportHeaderSchema, { entity: Entity.USERS, format: "csv" }) } };
      yield { message: { case: "chunk" as const, value: Buffer.from("email,username\ncancel1@example.org,cancel1\n") } };
      await held; // the upload stalls: the job stays running
    })();
    let jobId = "";
    const call = (async () => {
      for await (const r of s.client.import(requests)) if (r.event.case === "started") jobId = r.event.value.jobId;
    })().catch((e: unknown) => e);
    await eventually(() => jobId !== "");
    expect((await s.client.getJob({ jobId })).job?.state).toBe(JobState.RUNNING);
    const { job } = await s.connectJson.cancelJob({ jobId });
    expect(job).toMatchObject({ state: JobState.CANCELLED, errorCode: "cancelled" });
    expect(job?.error).toContain("CancelJob");
    const error = await call;
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Canceled);
    release();
    // Cancelling a job that already ended returns it as it is.
    expect((await s.client.cancelJob({ jobId })).job?.state).toBe(JobState.CANCELLED);
    expect(((await s.client.cancelJob({ jobId: "nope" }).catch((e: unknown) => e)) as ConnectError).code).toBe(Code.NotFound);
  });
});

describe("an export whose client goes away", () => {
  it("ends cancelled and closes the records cursor", async () => {
    await seed(
      s.recordsClient,
      Entity.USERS,
      Array.from({ length: 2500 }, (_, i) => user(`bulk${i}`)),
    );
    const baseline = openCursorCount();
    const controller = new AbortController();
    let jobId = "";
    let chunks = 0;
    // 250 records a message, one message every 100 ms: the first chunk comes long before the cursor's end.
    slowRecords.delayMs = 100;
    const error = await (async () => {
      for await (const r of s.client.export({ entity: Entity.USERS, format: "csv" }, { signal: controller.signal })) {
        if (r.event.case === "header") jobId = r.event.value.jobId;
        if (r.event.case === "chunk") {
          chunks++;
          expect(r.event.value.byteLength).toBeLessThanOrEqual(64 * 1024);
          expect(openCursorCount()).toBe(baseline + 1);
          controller.abort();
        }
      }
    })()
      .catch((e: unknown) => e)
      .finally(() => {
        slowRecords.delayMs = 0;
      });
    expect(chunks).toBe(1);
    expect((error as ConnectError).code).toBe(Code.Canceled);
    await eventually(async () => (await s.client.getJob({ jobId })).job?.state === JobState.CANCELLED);
    const { job } = await s.client.getJob({ jobId });
    expect(job?.error).toContain("went away");
    expect(Number(job?.counts?.exported)).toBeLessThan(2500);
    await eventually(() => openCursorCount() === baseline);
    expect(s.transfer.context.registry.size).toBe(0);
  });
});
