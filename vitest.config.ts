import { defineConfig } from "vitest/config";
import { ciReporters } from "./test/support/ci-reports.js";
import { captureConsole } from "./test/support/log-capture.js";

/** DX_VITEST_JSON (set by .ci/run) also writes a JSON report and the errors outside the tests, for CI's summary line. */
const { reporters, outputFile } = ciReporters(process.env.DX_VITEST_JSON);

export default defineConfig({
  // The web UI's component tests (test/web/components/*.test.tsx) use React's automatic JSX runtime, as its build does (scripts/build-web.mjs).
  oxc: { jsx: { runtime: "automatic" } },
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // expect.poll's own default (1 s) is shorter than a browser page's round trip when the two CI
    // lanes and their services share 2 cores; a poll that passes passes as soon as it can.
    expect: { poll: { timeout: 15_000 } },
    pool: "forks",
    reporters,
    outputFile,
    // Console output is part of what the run logged: kept for the secrets check (test/support/log-check.ts), and still shown.
    onConsoleLog: (log, type) => {
      captureConsole(log, type);
    },
  },
});
