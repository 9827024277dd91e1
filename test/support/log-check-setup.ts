/**
 * The log secrets check's part in the run's global setup: open the capture
 * folder before any worker starts (workers and the services they spawn
 * inherit its variables), and at the end scan it (log-check.ts), print the
 * result, and fail the run on a leak.
 *
 * The run fails through `process.exitCode`: vitest reports an error thrown
 * by a global teardown but still exits 0, which would let a leak pass. When
 * vitest writes a JSON report for CI (DX_VITEST_JSON), the check adds one of
 * its own beside it, so CI's "N passed, N failed" line counts it too.
 */
import { rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { reportBeside } from "./ci-reports.js";
import { checkRunLogs, formatLogCheck } from "./log-check.js";
import { createRunLogCapture } from "./log-capture.js";
import { fixtureSecrets, readRecordedSecrets } from "./run-secrets.js";

const testRoot = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

export interface RunLogCapture {
  dir: string;
  /**
   * Scans the capture, reports, fails the run on a problem, and removes the
   * folder when the check is clean and every test passed: a failed test's
   * services' output (a spawned `npm start` that exited, say) is what explains
   * it, so that run keeps the folder and prints where it is.
   */
  finish(project: TestProject): Promise<void>;
  /** Removes the folder without checking (the run did not get as far as its tests). */
  discard(): void;
}

/** Opens the run's capture folder and points this process's environment (and so every worker's) at it. */
export function startRunLogCapture(): RunLogCapture {
  const { dir, env } = createRunLogCapture();
  Object.assign(process.env, env);
  return {
    dir,
    async finish(project) {
      const result = checkRunLogs({
        dir,
        secrets: [...readRecordedSecrets(dir), ...fixtureSecrets(testRoot)],
        requireCoverage: await isFullRun(project),
      });
      const report = formatLogCheck(result, dir);
      const failed = result.problems.length > 0;
      const ciReport = process.env.DX_VITEST_JSON;
      if (ciReport)
        writeFileSync(
          reportBeside(ciReport, "log-check"),
          JSON.stringify({ numPassedTests: failed ? 0 : 1, numFailedTests: failed ? 1 : 0, testResults: failed ? [{ name: "log secrets check", status: "failed", message: report }] : [] }),
        );
      if (failed) {
        process.stderr.write(`\n${report}\n`);
        process.exitCode = 1;
      } else {
        process.stdout.write(`\n${report}\n`);
        if (project.vitest.state.getCountOfFailedTests() > 0) process.stdout.write(`Tests failed: the services' output of this run is kept in ${dir}\n`);
        else rmSync(dir, { recursive: true, force: true });
      }
    },
    discard() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * True when every test file ran, with no name filter: only then must the
 * capture hold lines of both services (a run of test/records alone has no
 * transfer service to log anything).
 */
async function isFullRun(project: TestProject): Promise<boolean> {
  if (project.config.testNamePattern) return false;
  const ran = new Set(project.vitest.state.getFiles().map((file) => file.filepath));
  const { testFiles } = await project.globTestFiles();
  return testFiles.length > 0 && testFiles.every((file) => ran.has(file));
}
