#!/usr/bin/env node
/**
 * Sums vitest JSON reports into the one closing line CI reads:
 * "N passed, N failed" (", N skipped" when any were skipped). The reports include, beside each
 * run's own, its errors outside the tests (test/support/ci-reports.ts) and its log secrets check,
 * each in the JSON report's shape.
 *
 * Above that line it names every failed test (report, file, test, first line of its message):
 * a CI log is often seen only by its tail, and a count alone cannot tell a flaky test from a
 * broken one.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, relative } from "node:path";

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    failed++;
    failures.push(`${basename(file)}: no report (the run did not finish)`);
    continue;
  }
  const report = JSON.parse(readFileSync(file, "utf8"));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  if ((report.numFailedTestSuites ?? 0) > 0 && (report.numFailedTests ?? 0) === 0) failed += report.numFailedTestSuites;
  for (const suite of report.testResults ?? []) {
    const where = `${basename(file)}: ${relative(process.cwd(), suite.name ?? "?")}`;
    const failedTests = (suite.assertionResults ?? []).filter((test) => test.status === "failed");
    for (const test of failedTests) failures.push(`${where} › ${test.fullName ?? test.title} — ${firstLine(test.failureMessages)}`);
    if (suite.status === "failed" && failedTests.length === 0) failures.push(`${where} — ${firstLine([suite.message])}`);
  }
}
if (failures.length > 0) process.stdout.write(`failed:\n${failures.map((line) => `  ${line}`).join("\n")}\n`);
process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);

/** The first non-empty line of a failure, cut to 300 characters. */
function firstLine(messages) {
  const text = (messages ?? []).find((message) => typeof message === "string" && message.trim() !== "") ?? "(no message)";
  return text.trim().split("\n")[0].slice(0, 300);
}
