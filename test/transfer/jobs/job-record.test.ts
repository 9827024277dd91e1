/**
 * A job's record, written through its JobRecord and kept by the registry, on
 * real FerretDB servers: counts only move forward whatever order writes land
 * in; an end is retried while the database is away — and, when it stays away,
 * reported as unavailable and written once it is back; and an instance that
 * lost a job's lease (another instance took it for stopped) learns it at its
 * next write and stops the job.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MongoClient } from "mongodb";
import { startFerretDb, type RunningFerretDb } from "../../../scripts/lib/ferretdb.js";
import { transferConfig } from "../../../services/transfer/config/transfer-config.js";
import { JobLeaseLostError, JobRecordUnavailableError } from "../../../services/transfer/errors.js";
import { JobRegistry, STOPPED_REASON } from "../../../services/transfer/jobs/job-registry.js";
import { JobStore, type NewJob } from "../../../services/transfer/jobs/job-store.js";
import type { JobRecord } from "../../../services/transfer/jobs/job-record.js";
import type { JobOutcome } from "../../../services/transfer/jobs/job-types.js";
import { openTestDatabase, type TestDatabase } from "../../support/database.js";
import { eventually } from "../rpc/harness.js";

/** Ends a job with a known outcome. */
function finishWith(record: JobRecord, outcome: JobOutcome): Promise<boolean | undefined> {
  return record.finish({ outcome: async () => outcome }, outcome.state === "succeeded");
}

const NEW_JOB: NewJob = { kind: "import", subject: "ada", entity: "users", format: "csv", formatOptions: "{}", mode: "insert", strict: false, dryRun: false };

/** Job settings with no timers of their own unless a test wants them. */
function settings(overrides: Partial<ReturnType<typeof transferConfig>["jobs"]> = {}) {
  return transferConfig({ jobs: { progressSaveMs: 20, heartbeatMs: 100_000, leaseMs: 300_000, sweepMs: 100_000, cancelPollMs: 60_000, ...overrides } }).jobs;
}

describe("a job record on the run's database", () => {
  let t: TestDatabase;
  let store: JobStore;

  beforeAll(async () => {
    t = await openTestDatabase("job_record");
    store = new JobStore(t.db);
    await store.ensureIndexes();
  });
  afterAll(async () => t?.close());

  it("keeps its counts moving forward whatever order progress writes land in", async () => {
    const registry = new JobRegistry(store, settings());
    const { job } = await registry.start(NEW_JOB);
    expect(await store.sync(job._id, registry.owner, { counts: { read: 500, inserted: 400 }, bytes: 9000, errorCount: 3 }, 1000)).toBe(true);
    // A write from before lands late.
    expect(await store.sync(job._id, registry.owner, { counts: { read: 100, inserted: 0, failed: 1 }, bytes: 2000, errorCount: 1 }, 1000)).toBe(true);
    const stored = await store.get(job._id);
    expect(stored.counts).toMatchObject({ read: 500, inserted: 400, failed: 1 });
    expect(stored).toMatchObject({ bytes: 9000, errorCount: 3, state: "running" });
  });

  it("ends after every earlier write of it has landed, so a progress write can never undo its end", async () => {
    const registry = new JobRegistry(store, settings({ progressSaveMs: 0 }));
    const jobs = await Promise.all(Array.from({ length: 40 }, () => registry.start(NEW_JOB)));
    await Promise.all(
      jobs.map(async ({ record }, i) => {
        for (let n = 1; n <= 5; n++) record.progress({ counts: { read: n * 10 }, bytes: n });
        expect(await finishWith(record, { state: "succeeded", counts: { read: 50 + i, inserted: 50 + i }, bytes: 5 })).toBe(true);
      }),
    );
    for (const [i, { job }] of jobs.entries()) expect(await store.get(job._id)).toMatchObject({ state: "succeeded", counts: { read: 50 + i, inserted: 50 + i } });
  });

  it("is lost by an instance whose lease another one took for expired: its next write says so and stops the job", async () => {
    const stalled = new JobRegistry(store, settings({ leaseMs: 300, heartbeatMs: 100 }));
    const other = new JobRegistry(store, settings({ leaseMs: 300, heartbeatMs: 100 }));
    const running = await stalled.start(NEW_JOB, { rowErrors: true });
    running.record.progress({ counts: { read: 7, inserted: 7 }, bytes: 70 });
    await eventually(async () => (await store.get(running.job._id)).counts.inserted === 7);
    // The owner renews nothing for longer than the lease (no heartbeat was started).
    await new Promise((r) => setTimeout(r, 400));
    const swept = await other.sweep();
    expect(swept.map((j) => j._id)).toContain(running.job._id);
    expect(await store.get(running.job._id)).toMatchObject({ state: "failed", error: STOPPED_REASON, errorCode: "unavailable", counts: { inserted: 7 } });

    await running.record.renew();
    expect(running.signal.aborted).toBe(true);
    expect(running.signal.reason).toBeInstanceOf(JobLeaseLostError);
    // Its end does not overwrite the other instance's.
    expect(await finishWith(running.record, { state: "succeeded", counts: { inserted: 9 } })).toBe(false);
    expect((await store.get(running.job._id)).state).toBe("failed");
    running.release();
  });

  it("sees a cancel request stored by another instance and stops the job", async () => {
    const owner = new JobRegistry(store, settings({ cancelPollMs: 50 }));
    const other = new JobRegistry(store, settings());
    await owner.begin();
    try {
      const running = await owner.start(NEW_JOB);
      const cancelling = other.requestCancel(running.job._id, "grace", 5_000);
      await eventually(() => running.signal.aborted);
      await finishWith(running.record, { state: "cancelled", error: "cancelled by request (CancelJob)" });
      running.release();
      expect((await cancelling).state).toBe("cancelled");
      expect(await store.cancelRequested([running.job._id])).toEqual([]);
    } finally {
      await owner.close();
    }
  });
});

describe("a job record while its database is away", () => {
  let dir: string;
  let server: RunningFerretDb;
  let client: MongoClient;
  let store: JobStore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "dx-job-record-"));
    server = await startFerretDb({ dataDir: dir });
    // Fail fast while the server is down, so each retry is one short attempt.
    client = new MongoClient(server.uri, { serverSelectionTimeoutMS: 300, connectTimeoutMS: 300 });
    await client.connect();
    store = new JobStore(client.db("records_away"));
    await store.ensureIndexes();
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Kills the server (SIGKILL) and starts it again on the same port and files after `downMs`. */
  async function outage(downMs: number): Promise<void> {
    process.kill(server.pid, "SIGKILL");
    await new Promise((r) => setTimeout(r, downMs));
    server = await startFerretDb({ dataDir: dir, port: server.port });
  }

  it("retries the end through a short outage, and the client waits for it", async () => {
    const registry = new JobRegistry(store, settings());
    const running = await registry.start(NEW_JOB);
    const back = outage(500);
    await new Promise((r) => setTimeout(r, 50));
    expect(await finishWith(running.record, { state: "succeeded", counts: { read: 3, inserted: 3 }, bytes: 30 })).toBe(true);
    await back;
    running.release();
    expect(await store.get(running.job._id)).toMatchObject({ state: "succeeded", counts: { inserted: 3 } });
  });

  it("says the end is not recorded when the outage outlasts the retries, and writes it once the database is back", async () => {
    const registry = new JobRegistry(store, settings({ heartbeatMs: 100, leaseMs: 60_000 }));
    await registry.begin();
    try {
      const running = await registry.start(NEW_JOB);
      process.kill(server.pid, "SIGKILL");
      const error = await finishWith(running.record, { state: "succeeded", counts: { read: 4, inserted: 4 }, bytes: 40 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobRecordUnavailableError);
      expect((error as Error).message).toContain("its end is not recorded yet");
      running.release();
      server = await startFerretDb({ dataDir: dir, port: server.port });
      // The registry's heartbeat keeps trying; the end it writes is the one the job had.
      await eventually(async () => (await store.get(running.job._id).catch(() => undefined))?.state === "succeeded", 20_000);
      expect((await store.get(running.job._id)).counts).toMatchObject({ read: 4, inserted: 4 });
    } finally {
      await registry.close();
    }
  });
});
