/**
 * Exports cut off in the middle: the records service killed (SIGKILL) while
 * it streams, and a client that goes away. A client must never mistake a
 * truncated file for a whole one: the RPC ends UNAVAILABLE (which clients
 * retry), not CANCELLED (which they do not) (issue 20.5); a download's body
 * does not end cleanly and carries no checksum trailer (issue 18.4). A
 * client that disconnects leaves the job `cancelled` and no database cursor
 * open, and repeated abandoned exports do not grow either service's memory.
 */
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { Entity } from "../../gen/dataexchange/records/v1/records_pb.js";
import { JobState } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { RECORDS_DATABASE, startFaultStack, waitFor, type FaultStack } from "./support/fault-stack.js";
import { coursesCsv, endedJob, importCourses, transferClient, type TransferClient } from "./support/transfer-calls.js";

/** 20,000 courses of ~1 KB: a ~20 MB CSV, far more than the buffers between the database and the client hold. */
const ROWS = 20_000;

describe("an export cut off in the middle", () => {
  let stack: FaultStack;
  let client: TransferClient;
  beforeAll(async () => {
    stack = await startFaultStack();
    client = transferClient(stack.transfer.url, stack.tokens.transfer);
    const loaded = await importCourses(client, coursesCsv(ROWS, "E", 1_000), "insert");
    expect(loaded.summary?.inserted).toBe(BigInt(ROWS));
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("by the records service dying: the RPC ends UNAVAILABLE, the job failed, and the next export works once it is back", async () => {
    let jobId = "";
    let chunks = 0;
    let summary = false;
    const error = await (async () => {
      for await (const response of client.export({ entity: Entity.COURSES, format: "csv" })) {
        if (response.event.case === "header") jobId = response.event.value.jobId;
        if (response.event.case === "summary") summary = true;
        if (response.event.case === "chunk" && ++chunks === 1) await stack.killRecords();
      }
    })().then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(summary).toBe(false);
    expect(error && Code[error.code]).toBe("Unavailable");
    const job = await endedJob(client, jobId);
    expect(job.state).toBe(JobState.FAILED);
    expect(job.errorCode).toBe("unavailable");

    await stack.restartRecords();
    let records = 0n;
    for await (const response of client.export({ entity: Entity.COURSES, format: "csv" })) if (response.event.case === "summary") records = response.event.value.records;
    expect(records).toBe(BigInt(ROWS));
  }, 120_000);

  it("by the records service dying during a download: the body does not end cleanly and has no checksum trailer", async () => {
    const outcome = await new Promise<{ status: number; ended: boolean; trailers: Record<string, unknown>; bytes: number }>((resolve) => {
      const req = request(`${stack.transfer.url}/export/csv?entity=courses`, { headers: { authorization: `Bearer ${stack.tokens.transfer}` } }, (res) => {
        let bytes = 0;
        let killing: Promise<void> | undefined;
        let ended = false;
        res.on("data", (chunk: Buffer) => {
          bytes += chunk.byteLength;
          killing ??= stack.killRecords();
        });
        res.on("end", () => (ended = true));
        res.on("error", () => undefined);
        res.on("close", () => void killing?.then(() => resolve({ status: res.statusCode ?? 0, ended, trailers: res.trailers, bytes })));
      });
      req.on("error", () => undefined);
      req.end();
    });
    expect(outcome.status).toBe(200);
    expect(outcome.bytes).toBeGreaterThan(0);
    expect(outcome.ended).toBe(false);
    expect(outcome.trailers["x-checksum-sha256"]).toBeUndefined();
    await stack.restartRecords();
  }, 120_000);

  it("by the client going away: the job is cancelled, the database cursor closed, and memory does not grow over repeated abandoned exports", async () => {
    const rss = () => [stack.records.child.pid!, stack.transfer.child.pid!].map(residentMb);
    const abandon = async (how: "rpc" | "download") => {
      const jobId = how === "rpc" ? await abandonRpcExport(client) : await abandonDownload(stack.transfer.url, stack.tokens.transfer);
      const job = await endedJob(client, jobId);
      expect(job.state).toBe(JobState.CANCELLED);
      expect(job.error).toMatch(/client went away/);
      await waitFor("every cursor on courses to be closed", async () => ((await cursors(stack, "courses")).open === 0 ? true : undefined), 30_000, 100);
    };
    const created = (await cursors(stack, "courses")).created;
    await abandon("rpc");
    await abandon("download");
    // The check above counts real cursors: each export opened one.
    expect((await cursors(stack, "courses")).created).toBeGreaterThanOrEqual(created + 2);
    const before = rss();
    for (let i = 0; i < 4; i++) await abandon(i % 2 === 0 ? "rpc" : "download");
    const after = rss();
    // Each abandoned export streamed at most a few MB; a leak of what one holds (read-ahead batches, the plugin's buffers, the records stream) would show as tens of MB.
    after.forEach((mb, i) => expect(mb - before[i]!).toBeLessThan(40));
  }, 120_000);
});

/** Starts an export over the RPC, reads its first chunk, and cancels the call (the client goes away). */
async function abandonRpcExport(client: TransferClient): Promise<string> {
  const controller = new AbortController();
  let jobId = "";
  try {
    for await (const response of client.export({ entity: Entity.COURSES, format: "csv" }, { signal: controller.signal })) {
      if (response.event.case === "header") jobId = response.event.value.jobId;
      if (response.event.case === "chunk") controller.abort();
    }
  } catch (error) {
    if (ConnectError.from(error).code !== Code.Canceled) throw error;
  }
  return jobId;
}

/** Starts a download, reads its first bytes, and closes the connection. */
function abandonDownload(url: string, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/export/csv?entity=courses`, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.once("data", () => {
        req.destroy();
        resolve(String(res.headers["x-job-id"]));
      });
    });
    req.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "ECONNRESET") reject(error);
    });
    req.end();
  });
}

/** A process's resident memory in MB (VmRSS). */
function residentMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? 0) / 1024;
}

/**
 * Cursors FerretDB has open on a collection of the records database: created
 * minus closed, from its Prometheus metrics (`ferretdb_cursors_created_total`,
 * and `ferretdb_cursors_duration_seconds_count`, observed when one closes).
 */
async function cursors(stack: FaultStack, collection: string): Promise<{ created: number; open: number }> {
  const text = await (await fetch(`${stack.database.server!.debugUrl}/debug/metrics`)).text();
  const sum = (metric: string) =>
    text
      .split("\n")
      .filter((line) => line.startsWith(`${metric}{`) && line.includes(`collection="${collection}"`) && line.includes(`db="${RECORDS_DATABASE}"`))
      .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
  const created = sum("ferretdb_cursors_created_total");
  return { created, open: created - sum("ferretdb_cursors_duration_seconds_count") };
}
