/**
 * The bench's command line: a typo in a flag used to be ignored silently (the
 * run then measured something else than asked). It is now an error before
 * anything starts, as is a bad value or an unknown section.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

function bench(...args: string[]) {
  const run = spawnSync(process.execPath, ["--import", "tsx", "bench/run.ts", ...args], { encoding: "utf8", timeout: 60_000 });
  return { status: run.status, stderr: run.stderr };
}

describe("bench/run.ts flags", () => {
  it("refuses an unknown flag, naming it, before starting anything", () => {
    const { status, stderr } = bench("--rounds=1", "--qiuck");
    expect(status).toBe(1);
    expect(stderr).toMatch(/Unknown option '--qiuck'/);
    expect(stderr).not.toContain("FerretDB");
  });

  it("refuses a count that is not a whole number and a section it does not have", () => {
    expect(bench("--n", "1e3x").stderr).toContain('--n must be a whole number ≥ 1, not "1e3x"');
    expect(bench("--only", "plugins,exprot").stderr).toContain("--only names unknown section exprot");
    expect(bench("--backend", "mysql").stderr).toContain('--backend must be sqlite or postgresql, not "mysql"');
  });

  it("refuses a re-import row it does not have, an empty list, and rows of a section left out", () => {
    expect(bench("--reimport-rows", "ri-upsert-unchanged,ri-upsert-unchnaged").stderr).toContain("--reimport-rows names unknown row ri-upsert-unchnaged; known: ri-upsert-unchanged,");
    expect(bench("--reimport-rows", ",").stderr).toContain("--reimport-rows names no row; known:");
    expect(bench("--only", "e2e", "--reimport-rows", "ri-merge-changed").stderr).toContain("--reimport-rows chooses rows of the reimport section, which --only leaves out");
  });

  it("refuses a probe pause that is not a whole number and a nice value outside 0–19", () => {
    expect(bench("--probe-every-ms", "0").stderr).toContain('--probe-every-ms must be a whole number ≥ 1, not "0"');
    expect(bench("--colocated-nice", "20").stderr).toContain('--colocated-nice must be a whole number from 0 to 19, not "20"');
    expect(bench("--colocated-nice=-5").stderr).toContain('--colocated-nice must be a whole number from 0 to 19, not "-5"');
  });
});
