/**
 * The job scope behind `job_id` on log lines: a job names itself once, and
 * every line logged in its steps carries the id, whoever drives the steps.
 */
import { describe, expect, it } from "vitest";
import { currentJobId, inJobScope, runInJobScope, setCurrentJobId, type JobScope } from "../../services/shared/logging/index.js";
import { memoryLogger } from "../support/memory-logger.js";

describe("a job scope", () => {
  it("gives every step of a generator the id it set, across awaits, but not its consumer", async () => {
    const { log, lines } = memoryLogger();
    const job = inJobScope(
      (async function* () {
        log.info("before the id");
        setCurrentJobId("job-7");
        yield 1;
        await new Promise((r) => setImmediate(r));
        log.info("after an await");
        yield 2;
        log.info("last step");
      })(),
    );
    for await (const n of job) log.info(`consumer got ${n}`);
    expect(lines().map((l) => [l.msg, l.job_id])).toEqual([
      ["before the id", undefined],
      ["consumer got 1", undefined],
      ["after an await", "job-7"],
      ["consumer got 2", undefined],
      ["last step", "job-7"],
    ]);
  });

  it("shares a scope handed to it, so the opener (an RPC's log line) sees the id the job set", async () => {
    const scope: JobScope = {};
    const job = inJobScope(
      (async function* () {
        setCurrentJobId("job-8");
        yield currentJobId();
      })(),
      scope,
    );
    const seen: (string | undefined)[] = [];
    for await (const id of job) seen.push(id);
    expect(seen).toEqual(["job-8"]);
    expect(scope.jobId).toBe("job-8");
    expect(currentJobId()).toBeUndefined();
  });

  it("joins the scope open where its first step is taken", async () => {
    const scope: JobScope = {};
    const job = inJobScope(
      (async function* () {
        setCurrentJobId("job-10");
        yield 1;
      })(),
    );
    await runInJobScope(scope, () => job.next());
    await job.return(undefined);
    expect(scope.jobId).toBe("job-10");
  });

  it("runs return() in the scope, so a job's cleanup lines carry the id", async () => {
    const { log, lines } = memoryLogger();
    const job = inJobScope(
      (async function* () {
        setCurrentJobId("job-9");
        try {
          yield 1;
          yield 2;
        } finally {
          log.info("cleanup");
        }
      })(),
    );
    for await (const _ of job) break;
    expect(lines()).toEqual([expect.objectContaining({ msg: "cleanup", job_id: "job-9" })]);
  });

  it("reports that an id set outside any scope goes nowhere", () => {
    expect(setCurrentJobId("lost")).toBe(false);
    expect(currentJobId()).toBeUndefined();
  });
});
