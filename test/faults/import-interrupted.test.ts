/**
 * The database, or the records service, killed (SIGKILL) in the middle of a
 * 50,000-row lenient import: whatever the client is told and whatever the
 * job record says, the rows reported inserted are exactly the rows stored —
 * never a success for rows the crash lost (issue 20.1), never a job left
 * `running`, never a client kept waiting through the outage (issue 20.6),
 * and an upsert of the same file afterwards converges to exactly the file
 * (issue 18.4). Real processes: FerretDB, the records service and the
 * transfer service.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "@connectrpc/connect";
import { JobState } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { ensureIndexes } from "../../services/records/store/collections.js";
import { startFaultStack, waitFor, type FaultStack } from "./support/fault-stack.js";
import { coursesCsv, coursesWithPrefix, endedJob, importCourses, transferClient, type TransferClient } from "./support/transfer-calls.js";

const ROWS = 50_000;

describe("a 50,000-row lenient import interrupted by a crash", () => {
  let stack: FaultStack;
  let client: TransferClient;
  beforeAll(async () => {
    stack = await startFaultStack();
    client = transferClient(stack.transfer.url, stack.tokens.transfer);
  });
  afterAll(async () => {
    await stack?.close();
  });

  /** An empty courses collection with the records service's indexes (deleteMany of 50,000 rows is refused by FerretDB/SQLite: too many SQL variables). */
  const emptyCourses = async () => {
    await stack.recordsDb
      .collection("courses")
      .drop()
      .catch(() => undefined);
    await ensureIndexes(stack.recordsDb, ["courses"]);
  };
  const stored = (prefix: string) => stack.recordsDb.collection("courses").countDocuments(coursesWithPrefix(prefix));
  /**
   * Starts an import and kills the database once the import has read `rows`
   * rows, by its own progress events: reading runs at most a few batches
   * ahead of writing, so by then it is surely mid-write.
   */
  const importAndKill = (file: Buffer, rows: number, options: { kill?: () => Promise<void>; timeoutMs?: number } = {}) => {
    const kill = options.kill ?? (() => stack.database.kill());
    let killed: Promise<void> | undefined;
    // By default the deadline is far past the time an outage takes to be reported (at most the retry
    // budget plus one server selection, ~8 s), and far short of "until the database is back".
    const outcome = importCourses(client, file, "insert", { timeoutMs: options.timeoutMs ?? 30_000, onProgress: (read) => void (read >= rows && (killed ??= kill())) });
    const wasKilled = async () => {
      await waitFor("the database to be killed", () => (killed ? true : undefined));
      await killed;
    };
    return { outcome, killed: wasKilled };
  };

  it("the database killed, and back a moment later: the rows reported inserted are exactly the rows stored", async () => {
    await emptyCourses();
    const file = coursesCsv(ROWS, "A");
    // The import goes on once the database is back: its deadline is only a bound on the test.
    const { outcome, killed } = importAndKill(file, 15_000, { timeoutMs: 120_000 });
    await killed();
    await stack.database.restart();
    const { jobId, summary, error } = await outcome;
    expect(jobId).toBeDefined();
    const job = await endedJob(client, jobId!);
    const rows = await stored("A");
    // What the client heard and what the job says, for a failure to be read from the message alone.
    const heard = JSON.stringify({ error: error?.rawMessage, code: error && Code[error.code], state: JobState[job.state], counts: job.counts, jobError: job.error }, (_k, v: unknown) =>
      typeof v === "bigint" ? Number(v) : v,
    );
    if (summary) {
      expect(Number(summary.inserted), heard).toBe(rows);
      expect(job.state, heard).toBe(JobState.SUCCEEDED);
    } else {
      expect(error?.code, heard).toBe(Code.Unavailable);
      expect(job.state, heard).toBe(JobState.FAILED);
    }
    expect(Number(job.counts?.inserted), heard).toBe(rows);
    // The test's own limit is past the import's deadline (120 s), so that an import still running then
    // fails here as what the client heard (DEADLINE_EXCEEDED), with the job's record, not as a test timeout.
  }, 180_000);

  it("the database killed, and down until the client has its answer: UNAVAILABLE, the job failed with the rows committed so far, and an upsert re-run converges to the file", async () => {
    await emptyCourses();
    const file = coursesCsv(ROWS, "B");
    // Killed early: the re-run then has fewer existing keys to look up (an upsert over existing keys is the slow path on FerretDB).
    const { jobId, summary, error } = await importAndKill(file, 5_000).outcome;
    expect(summary).toBeUndefined();
    expect(error?.code).toBe(Code.Unavailable);
    expect(jobId).toBeDefined();

    await stack.database.restart();
    const job = await endedJob(client, jobId!);
    const rows = await stored("B");
    expect(job.state).toBe(JobState.FAILED);
    expect(job.errorCode).toBe("unavailable");
    expect(job.error).toMatch(/row\(s\) of the batches in flight (were found stored|were not written)/);
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBeLessThan(ROWS);
    expect(Number(job.counts?.inserted)).toBe(rows);

    const rerun = await importCourses(client, file, "upsert");
    expect(rerun.error).toBeUndefined();
    expect(rerun.summary?.failed).toBe(0n);
    expect(Number(rerun.summary!.unchanged)).toBe(rows);
    expect(Number(rerun.summary!.inserted)).toBe(ROWS - rows);
    expect(await stored("B")).toBe(ROWS);
  }, 120_000);

  it("the records service killed: UNAVAILABLE, and once it is back the job records exactly the rows stored, the batch it was writing included", async () => {
    await emptyCourses();
    const file = coursesCsv(ROWS, "C");
    const { jobId, summary, error } = await importAndKill(file, 15_000, { kill: () => stack.killRecords() }).outcome;
    expect(summary).toBeUndefined();
    expect(error?.code).toBe(Code.Unavailable);

    await stack.restartRecords();
    const job = await endedJob(client, jobId!);
    const rows = await stored("C");
    expect(job.state).toBe(JobState.FAILED);
    expect(job.errorCode).toBe("unavailable");
    // The batches it had in flight were checked once it was back, and counted as what they turned out to be.
    expect(job.error).toMatch(/row\(s\) of the batches in flight (were found stored|were not written)/);
    expect(rows).toBeGreaterThan(0);
    expect(Number(job.counts?.inserted)).toBe(rows);
  }, 120_000);
});
