/**
 * WatchJob: a job's progress, row errors and end, streamed from the job
 * store to any reader — on the instance running it or another one — and the
 * asynchronous upload (POST /import?async=true) that a browser follows with it.
 */
import net from "node:net";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Entity, WriteMode } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { ImportHeaderSchema, JobState, TransferService, type ImportResponse, type Job, type WatchJobResponse } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { buildTransferServer, type RunningTransferServer } from "../../../services/transfer/server.js";
import { withTestFormatWorkers } from "../../support/format-workers.js";
import { testServiceLogger } from "../../support/service-logger.js";
import { importFile, startServices, type Services } from "../rpc/harness.js";

const config = { jobs: { progressSaveMs: 20, watchPollMs: 25 } };
let s: Services;
let other: RunningTransferServer;

beforeAll(async () => {
  s = await startServices({ config });
  // A second instance on the same job store: watches must not depend on which one runs the job.
  other = await buildTransferServer({ db: s.transferDb.db, recordsUrl: s.records.url, config: withTestFormatWorkers(config), port: 0, logger: testServiceLogger("transfer") });
});
afterAll(async () => {
  await other?.close();
  await s?.close();
});

const watcher = () => createClient(TransferService, createGrpcTransport({ baseUrl: other.url }));

async function watchAll(jobId: string): Promise<WatchJobResponse[]> {
  const events: WatchJobResponse[] = [];
  for await (const event of watcher().watchJob({ jobId })) events.push(event);
  return events;
}

/** Course rows, every tenth one without a title (a row error). */
function coursesCsv(from: number, to: number): string {
  let out = "";
  for (let i = from; i < to; i++) out += `W${i},${i % 10 === 3 ? "" : `Course ${i}`}\r\n`;
  return out;
}

describe("watching a running import from another instance", () => {
  it("sends the job, its progress as it grows, each row error in order, and the job as it ended", async () => {
    let release!: () => void;
    const halfway = new Promise<void>((r) => (release = r));
    let resolveStarted!: (jobId: string) => void;
    const started = new Promise<string>((r) => (resolveStarted = r));
    const requests = (async function* () {
      yield { message: { case: "header" as const, value: create(ImportHeaderSchema, { entity: Entity.COURSES, format: "csv", mode: WriteMode.UPSERT }) } };
      yield { message: { case: "chunk" as const, value: Buffer.from(`code,title\r\n${coursesCsv(0, 2000)}`) } };
      await halfway;
      yield { message: { case: "chunk" as const, value: Buffer.from(coursesCsv(2000, 4000)) } };
    })();
    const answers: ImportResponse[] = [];
    const importing = (async () => {
      for await (const answer of s.client.import(requests)) {
        answers.push(answer);
        if (answer.event.case === "started") resolveStarted(answer.event.value.jobId);
      }
    })();
    const jobId = await started;
    const watching = watchAll(jobId);
    await new Promise((r) => setTimeout(r, 300));
    release();
    await importing;
    const events = await watching;

    const kinds = events.map((e) => e.event.case);
    expect(kinds[0]).toBe("job");
    expect(events[0]!.event.value).toMatchObject({ id: jobId, state: JobState.RUNNING, errors: [] });
    expect(kinds.at(-1)).toBe("ended");
    expect(kinds.filter((k) => k === "ended")).toHaveLength(1);
    const summary = answers.find((a) => a.event.case === "summary")!.event.value as { read: bigint; inserted: bigint; failed: bigint };
    const ended = events.at(-1)!.event.value as { state: JobState; counts: { read: bigint; inserted: bigint; failed: bigint } };
    expect(ended.state).toBe(JobState.SUCCEEDED);
    expect(ended.counts).toMatchObject({ read: summary.read, inserted: summary.inserted, failed: summary.failed });
    expect(summary).toMatchObject({ read: 4000n, failed: 400n });
    // The progress it saw only grew, and it saw some before the end.
    const reads = events.filter((e) => e.event.case === "progress").map((e) => Number((e.event.value as { counts: { read: bigint } }).counts.read));
    expect(reads.length).toBeGreaterThan(0);
    expect(reads).toEqual([...reads].sort((a, b) => a - b));
    // Every row error the importer heard, in the same order, once.
    const heard = answers.filter((a) => a.event.case === "rowError").map((a) => (a.event.value as { row: bigint }).row);
    const watched = events.filter((e) => e.event.case === "rowError").map((e) => (e.event.value as { row: bigint }).row);
    expect(watched).toEqual(heard);
    expect(watched).toHaveLength(400);
  });

  it("sends a finished job's row errors and its end at once, without progress", async () => {
    const done = await importFile(s.client, { entity: Entity.COURSES, format: "csv", mode: WriteMode.UPSERT }, `code,title\r\n${coursesCsv(5000, 5020)}`);
    const events = await watchAll(done.jobId);
    expect(events.map((e) => e.event.case)).toEqual(["job", "rowError", "rowError", "ended"]);
  });

  it("is NOT_FOUND for a job that does not exist", async () => {
    const error = await watchAll("no-such-job").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.NotFound);
  });
});

describe("POST /import?async=true", () => {
  function coursesForm(csv: string): FormData {
    const form = new FormData();
    form.append("entity", "courses");
    form.append("format", "csv");
    form.append("mode", "upsert");
    form.append("file", new Blob([csv]), "courses.csv");
    return form;
  }

  async function post(query: string, csv: string, headers: Record<string, string> | Headers = {}): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${s.transfer.url}/import${query}`, { method: "POST", body: coursesForm(csv), headers });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  async function jobsByRequestId(requestId: string): Promise<Record<string, unknown>[]> {
    const res = await fetch(`${s.transfer.url}/jobs?request_id=${encodeURIComponent(requestId)}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { jobs: Record<string, unknown>[] }).jobs;
  }

  it("answers 202 with the job as soon as it started, and the import runs to its end for a watcher", async () => {
    const res = await post("?async=true", `code,title\r\n${coursesCsv(6000, 7000)}`);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ state: "running", job: `/jobs/${res.body.jobId}` });
    const events = await watchAll(res.body.jobId as string);
    expect(events.at(-1)!.event.value).toMatchObject({ state: JobState.SUCCEEDED, counts: { read: 1000n, failed: 100n } });
  });

  it("gives the job the uploaded file's size, so a watcher sees how far it has read, up to all of it", async () => {
    const csv = `code,title\r\n${coursesCsv(8000, 8500)}`;
    const size = BigInt(Buffer.byteLength(csv));
    const res = await post("?async=true", csv);
    expect(res.status).toBe(202);
    const events = await watchAll(res.body.jobId as string);
    const jobs = events.map((e) => e.event.value).filter((v): v is Job => v?.$typeName === "dataexchange.transfer.v1.Job");
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) expect(job.fileSize).toBe(size);
    expect(jobs.at(-1)).toMatchObject({ state: JobState.SUCCEEDED, bytes: size, fileSize: size });
    const viaHttp = (await (await fetch(`${s.transfer.url}/jobs/${res.body.jobId}`)).json()) as Record<string, unknown>;
    expect(viaHttp).toMatchObject({ fileSize: Number(size), bytes: Number(size) });
  });

  it("gives an import streamed over the RPC no file size: it is not known before the file is read", async () => {
    const done = await importFile(s.client, { entity: Entity.COURSES, format: "csv", mode: WriteMode.UPSERT }, "code,title\r\nFS1,One\r\n");
    const events = await watchAll(done.jobId);
    const last = events
      .map((e) => e.event.value)
      .filter((v): v is Job => v?.$typeName === "dataexchange.transfer.v1.Job")
      .at(-1);
    expect(last?.fileSize).toBeUndefined();
  });

  it("keeps the client's X-Request-Id on the job, so that a client that lost the answer finds its job by it (GET /jobs and ListJobs)", async () => {
    const requestId = `req-${Date.now()}-kept`;
    const res = await post("?async=true", "code,title\r\nRQ1,Named\r\n", { "x-request-id": requestId });
    expect(res.status).toBe(202);
    await watchAll(res.body.jobId as string);
    expect(await jobsByRequestId(requestId)).toEqual([expect.objectContaining({ id: res.body.jobId, requestId, fileName: "courses.csv", state: "succeeded" })]);
    const listed = await s.connectJson.listJobs({ requestId });
    expect(listed.jobs.map((j) => [j.id, j.requestId])).toEqual([[res.body.jobId, requestId]]);
    // The look-up has an index on MongoDB (FerretDB 1.x keeps it but scans: bench/README.md).
    expect(await s.transferDb.db.collection("jobs").indexes()).toContainEqual(expect.objectContaining({ name: "request_created", key: { requestId: 1, createdAt: -1 } }));
    // Another name finds nothing; a job started without one keeps none.
    expect(await jobsByRequestId(`${requestId}-other`)).toEqual([]);
    const unnamed = await post("?async=true", "code,title\r\nRQ2,Unnamed\r\n");
    expect(((await (await fetch(`${s.transfer.url}/jobs/${unnamed.body.jobId}`)).json()) as Record<string, unknown>).requestId).toBeUndefined();
  });

  it("refuses an X-Request-Id that is not one (spaces, too long, given twice) with 400 naming the header, before a job starts; and an empty request_id filter", async () => {
    for (const [value, shown] of [
      ["has spaces", '"has spaces"'],
      ["x".repeat(129), "(129 characters)"],
    ] as const) {
      const res = await post("?async=true", "code,title\r\nRQ3,Refused\r\n", { "x-request-id": value });
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/^X-Request-Id must be 1 to 128 letters, digits/);
      expect(res.body.message).toContain(shown);
    }
    const twice = new Headers();
    twice.append("x-request-id", "first");
    twice.append("x-request-id", "second");
    const res = await post("", "code,title\r\nRQ3,Refused\r\n", twice);
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('"first, second"');
    expect(await jobsByRequestId("first")).toEqual([]);
    const empty = await fetch(`${s.transfer.url}/jobs?request_id=`);
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { message: string }).message).toBe("request_id is empty: give a value, or leave request_id out");
    await expect(s.client.listJobs({ requestId: "no spaces allowed" })).rejects.toThrow(/request_id must be 1 to 128/);
  });

  it("starts no job for a client that went away once the whole file was sent, before the job started (a Cancel pressed as the last bytes left)", async () => {
    const requestId = `req-${Date.now()}-gone`;
    const body = new Response(coursesForm("code,title\r\nGONE1,Gone\r\n"));
    const bytes = Buffer.from(await body.arrayBuffer());
    const url = new URL(s.transfer.url);
    const head = ["POST /import?async=true HTTP/1.1", `Host: ${url.host}`, `Content-Type: ${body.headers.get("content-type")}`, `Content-Length: ${bytes.byteLength}`, `X-Request-Id: ${requestId}`];
    // The whole request, then the client's end of the connection at once: the service reads all of the file, then finds the client gone.
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(url.port), url.hostname, () => socket.end(Buffer.concat([Buffer.from(`${head.join("\r\n")}\r\n\r\n`), bytes])));
      const got: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => got.push(chunk));
      socket.on("error", reject);
      socket.on("close", () => resolve(Buffer.concat(got).toString()));
    });
    expect(answer).toBe("");
    // Long enough for a job to have started and ended had one started (the import is one row).
    await new Promise((r) => setTimeout(r, 1500));
    expect(await jobsByRequestId(requestId)).toEqual([]);
    await expect(s.recordsClient.getRecord({ entity: Entity.COURSES, key: { parts: ["GONE1"] } })).rejects.toMatchObject({ code: Code.NotFound });
  });

  it("answers the refusal itself when the job never starts", async () => {
    const form = new FormData();
    form.append("entity", "courses");
    form.append("format", "nope");
    form.append("file", new Blob(["code\r\nX\r\n"]), "c.csv");
    const res = await fetch(`${s.transfer.url}/import?async=true`, { method: "POST", body: form });
    expect(res.status).toBe(404);
  });

  it("refuses any other query parameter, or an async that is not true or false, with 400 before reading the file", async () => {
    const bogus = await post("?bogus=1", "code,title\r\nZ1,Zed\r\n");
    expect(bogus.status).toBe(400);
    expect(bogus.body.message).toMatch(/unknown query parameter "bogus" for POST \/import; accepted: async/);
    const maybe = await post("?async=maybe", "code,title\r\nZ1,Zed\r\n");
    expect(maybe.status).toBe(400);
    expect(maybe.body.message).toMatch(/async must be true or false/);
  });
});
