/**
 * Jobs across instances: two (then three) transfer service processes on one
 * database, with one records service, started as production starts them,
 * with short leases. A job running on one instance is cancelled through the
 * other; an instance killed with SIGKILL mid-import has its job failed by
 * the other, with the counts it had recorded — which are exactly the rows in
 * the database; and an instance that starts fails the jobs of an instance
 * that died while no other ran.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { MongoClient } from "mongodb";
import { Entity, RecordsService, WriteMode } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { ImportHeaderSchema, JobState, TransferService } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { AuditAction, AuditOutcome } from "../../../gen/dataexchange/audit/v1/audit_pb.js";
import { AUDIENCES, ensureDevKeys, signDevToken } from "../../../services/shared/auth/index.js";
import { STOPPED_REASON } from "../../../services/transfer/jobs/job-registry.js";
import { startServiceProcess, type ServiceProcess } from "../../telemetry/service-process.js";
import { recordPrivateKey, recordSecret } from "../../support/run-secrets.js";
import { eventually } from "../rpc/harness.js";

type Transfer = Client<typeof TransferService>;

let dir: string;
let headers: Record<string, string>;
let records: ServiceProcess;
const transfers: ServiceProcess[] = [];
const databases = { records: `jobs_x_records_${randomBytes(4).toString("hex")}`, transfer: `jobs_x_transfer_${randomBytes(4).toString("hex")}` };

/** Every instance runs with leases of 1.5 s renewed every 200 ms, and looks for cancel requests and stopped jobs every 200–250 ms. */
const JOB_SETTINGS = {
  TRANSFER_JOBS_HEARTBEAT_MS: "200",
  TRANSFER_JOBS_LEASE_MS: "1500",
  TRANSFER_JOBS_SWEEP_MS: "250",
  TRANSFER_JOBS_CANCEL_POLL_MS: "200",
  TRANSFER_JOBS_PROGRESS_SAVE_MS: "100",
  // Small batches, so a stalled upload has some of them written.
  TRANSFER_IMPORT_BATCH_SIZE: "100",
};

function env(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { MONGODB_URI: inject("mongoUri"), DX_AUTH_DEV: "1", DX_DEV_KEYS_DIR: join(dir, "keys"), OTEL_EXPORTER_OTLP_ENDPOINT: "", LOG_LEVEL: "info", ...extra };
}

async function startTransfer(): Promise<ServiceProcess> {
  const instance = await startServiceProcess({
    entry: "services/transfer/server.ts",
    portVariable: "TRANSFER_PORT",
    env: env({ TRANSFER_RECORDS_URL: records.url, TRANSFER_DATABASE: databases.transfer, ...JOB_SETTINGS }),
  });
  transfers.push(instance);
  return instance;
}

const clientOf = (instance: ServiceProcess): Transfer => createClient(TransferService, createGrpcTransport({ baseUrl: instance.url }));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "dx-jobs-x-"));
  const keys = ensureDevKeys(join(dir, "keys"));
  recordPrivateKey(keys.privateKey);
  const token = recordSecret("token", await signDevToken({ roles: ["admin", "pii"], audience: [AUDIENCES.records, AUDIENCES.transfer], keys }));
  headers = { authorization: `Bearer ${token}` };
  records = await startServiceProcess({ entry: "services/records/server.ts", portVariable: "RECORDS_PORT", env: env({ RECORDS_DATABASE: databases.records }) });
});

afterAll(async () => {
  await Promise.all(transfers.map((t) => t.stop()));
  await records?.stop();
  const client = new MongoClient(inject("mongoUri"));
  try {
    for (const name of Object.values(databases))
      await client
        .db(name)
        .dropDatabase()
        .catch(() => undefined);
  } finally {
    await client.close();
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** An import whose upload sends `rows` users and then stalls until released: the job stays running. */
function stalledImport(client: Transfer, prefix: string, rows: number) {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let announce!: (jobId: string) => void;
  const jobId = new Promise<string>((r) => (announce = r));
  // The delimiter is given: sniffing it would wait for 64 KiB or the end of the file.
  const lines = ["email,username,role", ...Array.from({ length: rows }, (_, i) => `${prefix}${i}@example.org,${prefix}${i},student`)];
  const requests = (async function* () {
    yield { message: { case: "header" as const, value: create(ImportHeaderSchema, { entity: Entity.USERS, format: "csv", mode: WriteMode.UPSERT, formatOptions: { delimiter: "," } }) } };
    yield { message: { case: "chunk" as const, value: Buffer.from(`${lines.join("\n")}\n`) } };
    await held;
  })();
  const outcome = (async () => {
    try {
      for await (const r of client.import(requests, { headers })) if (r.event.case === "started") announce(r.event.value.jobId);
      return undefined;
    } catch (error) {
      return ConnectError.from(error);
    }
  })();
  return { jobId, outcome, release };
}

/** Users of `prefix` in the records service's database. */
async function usersWritten(prefix: string, rows: number): Promise<bigint> {
  const client = createClient(RecordsService, createGrpcTransport({ baseUrl: records.url }));
  const keys = Array.from({ length: rows }, (_, i) => ({ parts: [`${prefix}${i}@example.org`] }));
  return (await client.countRecords({ entity: Entity.USERS, filter: { keys } }, { headers })).count;
}

describe("two transfer service instances on one database", () => {
  let a: ServiceProcess;
  let b: ServiceProcess;

  beforeAll(async () => {
    [a, b] = await Promise.all([startTransfer(), startTransfer()]);
  });

  it("cancel a job running on one through the other, which answers with the job cancelled", async () => {
    const upload = stalledImport(clientOf(a), "xcancel", 150);
    const jobId = await upload.jobId;
    // Its first batch of 100 is written while the upload stalls.
    await eventually(async () => (await clientOf(b).getJob({ jobId }, { headers })).job?.counts?.inserted === 100n, 10_000);

    const started = Date.now();
    const { job } = await clientOf(b).cancelJob({ jobId }, { headers });
    const tookMs = Date.now() - started;
    expect(job?.state).toBe(JobState.CANCELLED);
    expect(job?.error).toBe("cancelled by request (CancelJob)");
    // The record keeps what had been written before the cancel: exactly the rows in the database.
    expect(job?.counts?.inserted).toBe(100n);
    expect(await usersWritten("xcancel", 150)).toBe(100n);
    expect((await upload.outcome)?.code).toBe(Code.Canceled);
    upload.release();
    console.log(`CancelJob through the other instance answered in ${tookMs} ms`);
    // Cancelling it again, from either instance, returns it as it is.
    expect((await clientOf(a).cancelJob({ jobId }, { headers })).job?.state).toBe(JobState.CANCELLED);
  });

  it("kill -9 one during an import: the other fails its job with the counts it had recorded, which are the rows written", async () => {
    const upload = stalledImport(clientOf(a), "xkill", 250);
    const jobId = await upload.jobId;
    // Two batches of 100 are written (and recorded) while the upload stalls; the last 50 rows wait for a full batch.
    await eventually(async () => (await clientOf(b).getJob({ jobId }, { headers })).job?.counts?.inserted === 200n, 10_000);

    a.child.kill("SIGKILL");
    await once(a.child, "exit");
    const heard = await upload.outcome;
    upload.release();
    expect(heard).toBeInstanceOf(ConnectError);

    await eventually(async () => (await clientOf(b).getJob({ jobId }, { headers })).job?.state !== JobState.RUNNING, 10_000);
    const { job } = await clientOf(b).getJob({ jobId }, { headers });
    expect(job).toMatchObject({ state: JobState.FAILED, error: STOPPED_REASON, errorCode: "unavailable" });
    expect(job?.counts?.inserted).toBe(200n);
    expect(job?.counts?.failed).toBe(0n);
    expect(await usersWritten("xkill", 250)).toBe(200n);
    expect(job?.finishedAt).toBeDefined();
    // The audit trail has the job's end too, written by the instance that noticed.
    const { events } = await clientOf(b).listAuditEvents({ filter: { action: AuditAction.IMPORT } }, { headers });
    expect(events.filter((e) => e.jobId === jobId).map((e) => [e.outcome, e.error, e.counts?.inserted])).toEqual([[AuditOutcome.FAILED, STOPPED_REASON, 200n]]);
  });

  it("an instance that starts fails the jobs of an instance that died while no other ran", async () => {
    await b.stop();
    const c = await startTransfer();
    const upload = stalledImport(clientOf(c), "xstart", 120);
    const jobId = await upload.jobId;
    await eventually(async () => (await clientOf(c).getJob({ jobId }, { headers })).job?.counts?.inserted === 100n, 10_000);
    c.child.kill("SIGKILL");
    await once(c.child, "exit");
    await upload.outcome;
    upload.release();
    // Longer than the lease: nobody renews it, nobody sweeps.
    await new Promise((r) => setTimeout(r, 2_000));

    const d = await startTransfer();
    // No wait: the new instance swept before it said it was listening.
    const { job } = await clientOf(d).getJob({ jobId }, { headers });
    expect(job).toMatchObject({ state: JobState.FAILED, error: STOPPED_REASON });
    expect(job?.counts?.inserted).toBe(100n);
    expect(await usersWritten("xstart", 120)).toBe(100n);
  });
});
