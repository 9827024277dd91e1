/**
 * The reports a CI run's vitest writes for its summary line
 * (scripts/ci-summary.mjs): vitest's JSON report, and beside it the errors
 * thrown outside any test.
 *
 * Why the second: vitest fails a run for an error no test caught (an
 * "unhandled error", such as a write to a child's closed stdin), but its JSON
 * report counts tests only. A CI lane failed so on 3 December 2026 while the
 * summary line read "0 failed". {@link UnhandledErrorsReport} writes those
 * errors in the JSON report's own shape, as failed tests named by the file
 * they came from, so the summary counts them and names them.
 */
import { rmSync, writeFileSync } from "node:fs";
import type { Reporter, SerializedError, TestModule } from "vitest/node";

/** A report of `kind` beside the JSON report at `jsonReport` (`run.json` → `run.<kind>.json`), which CI's summary reads with it. */
export function reportBeside(jsonReport: string, kind: string): string {
  return jsonReport.replace(/(\.json)?$/, `.${kind}.json`);
}

/** Where the errors outside the tests are written, beside the JSON report at `jsonReport`. */
export function unhandledErrorsPath(jsonReport: string): string {
  return reportBeside(jsonReport, "unhandled-errors");
}

/** vitest's `reporters` and `outputFile` for a run that writes its JSON report to `jsonReport` (none: the console only). */
export function ciReporters(jsonReport: string | undefined): { reporters: (string | Reporter)[]; outputFile?: { json: string } } {
  if (!jsonReport) return { reporters: ["default"] };
  return { reporters: ["default", "json", new UnhandledErrorsReport(unhandledErrorsPath(jsonReport))], outputFile: { json: jsonReport } };
}

/** Writes the run's errors outside the tests to `path` (and removes a stale file when there were none). */
export class UnhandledErrorsReport implements Reporter {
  constructor(private readonly path: string) {}

  onTestRunEnd(_modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<SerializedError>): void {
    if (errors.length === 0) {
      rmSync(this.path, { force: true });
      return;
    }
    const testResults = errors.map((error) => {
      const file = typeof error.VITEST_TEST_PATH === "string" ? error.VITEST_TEST_PATH : "outside any test file";
      const during = typeof error.VITEST_TEST_NAME === "string" ? ` (during "${error.VITEST_TEST_NAME}")` : "";
      return {
        name: file,
        status: "failed",
        message: "",
        assertionResults: [{ status: "failed", title: "an error outside the tests", fullName: `an error outside the tests${during}`, failureMessages: [describe(error)] }],
      };
    });
    writeFileSync(this.path, JSON.stringify({ numPassedTests: 0, numFailedTests: errors.length, testResults }));
  }
}

function describe(error: SerializedError): string {
  const name = error.name ?? "Error";
  return `${name}: ${error.message ?? "(no message)"}`;
}
