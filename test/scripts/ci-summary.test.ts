/**
 * CI's closing line (scripts/ci-summary.mjs over the reports of test/support/ci-reports.ts) is
 * what a reader of a CI log sees first: it must count every failure a run had, and name it.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { unhandledErrorsPath } from "../support/ci-reports.js";
import { repositoryRoot } from "../telemetry/service-process.js";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function folder(): string {
  dir = mkdtempSync(join(tmpdir(), "dx-ci-summary-"));
  return dir;
}

function summary(...reports: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [join(repositoryRoot, "scripts/ci-summary.mjs"), ...reports], { encoding: "utf8" });
  return { code: r.status, out: r.stdout };
}

/**
 * Runs vitest over the `*.test.mjs` files in `d` with the reporters of the project's vitest.config.ts
 * (the same function), as CI runs it: with DX_VITEST_JSON naming the report.
 */
function vitestRun(d: string) {
  writeFileSync(
    join(d, "vitest.config.mjs"),
    `import { ciReporters } from ${JSON.stringify(join(repositoryRoot, "test/support/ci-reports.ts"))};
     const { reporters, outputFile } = ciReporters(process.env.DX_VITEST_JSON);
     export default { test: { include: ["*.test.mjs"], globals: true, reporters, outputFile } };\n`,
  );
  const report = join(d, "run.json");
  const run = spawnSync(process.execPath, [join(repositoryRoot, "node_modules/vitest/vitest.mjs"), "run", "--root", d, "--config", join(d, "vitest.config.mjs")], {
    cwd: d,
    encoding: "utf8",
    env: { ...process.env, DX_VITEST_JSON: report, VITEST: undefined, VITEST_POOL_ID: undefined, VITEST_WORKER_ID: undefined, NODE_OPTIONS: undefined },
  });
  return { run, report };
}

describe("CI's summary line", () => {
  it("adds up every report and names each failed test with its report, file and first line", () => {
    const d = folder();
    writeFileSync(join(d, "a.json"), JSON.stringify({ numPassedTests: 3, numFailedTests: 0, numPendingTests: 1, testResults: [] }));
    writeFileSync(
      join(d, "b.json"),
      JSON.stringify({
        numPassedTests: 2,
        numFailedTests: 1,
        testResults: [
          { name: join(repositoryRoot, "test/x.test.ts"), status: "failed", assertionResults: [{ status: "failed", fullName: "x does y", failureMessages: ["expected 1 to be 2\n  at …"] }] },
        ],
      }),
    );
    const r = summary(join(d, "a.json"), join(d, "b.json"), join(d, "missing.json"));
    expect(r.out).toContain("b.json: test/x.test.ts › x does y — expected 1 to be 2");
    expect(r.out).toContain("missing.json: no report (the run did not finish)");
    expect(r.out.trim().split("\n").at(-1)).toBe("5 passed, 2 failed, 1 skipped");
    expect(r.code).toBe(1);
  });

  it("counts an error thrown outside any test as a failure, naming the file it came from, though every test passed", () => {
    const d = folder();
    // A run of its own: one test that passes, and a timer it started that throws after it (as a write to a closed pipe did in CI).
    writeFileSync(
      join(d, "late-error.test.mjs"),
      `test("passes, and leaves a timer behind that throws", async () => {
         setTimeout(() => { throw new Error("thrown by a timer the test left"); }, 10);
         await new Promise((resolve) => setTimeout(resolve, 200));
       });\n`,
    );
    const { run, report } = vitestRun(d);
    expect(run.status, run.stdout + run.stderr).toBe(1);
    expect(JSON.parse(readFileSync(report, "utf8"))).toMatchObject({ numPassedTests: 1, numFailedTests: 0 });
    expect(existsSync(unhandledErrorsPath(report))).toBe(true);

    const r = summary(report, unhandledErrorsPath(report));
    expect(r.out).toMatch(/late-error\.test\.mjs › an error outside the tests \(during "passes, and leaves a timer behind that throws"\) — Error: thrown by a timer the test left/);
    expect(r.out.trim().split("\n").at(-1)).toBe("1 passed, 1 failed");
    expect(r.code).toBe(1);
  });

  it("writes no errors file for a run without errors outside its tests", () => {
    const d = folder();
    writeFileSync(join(d, "fine.test.mjs"), `test("passes", () => {});\n`);
    // A file left by an earlier run in the same place is not read as this run's.
    writeFileSync(unhandledErrorsPath(join(d, "run.json")), "{}");
    const { run, report } = vitestRun(d);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(existsSync(unhandledErrorsPath(report))).toBe(false);
    expect(summary(report).out.trim()).toBe("1 passed, 0 failed");
  });
});
