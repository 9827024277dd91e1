/**
 * The bench's event-loop probe (bench/lib/event-loop-probe.mjs) tells a loop
 * kept busy by its own work from one whose thread got no core: the mixed-load
 * section's explanation of a slow Health.Check rests on that split, so each
 * case is provoked here and the split checked.
 */
import { spawn, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { eventLoopFiguresIn, type EventLoopFigures } from "../../bench/sections/e2e.js";

const probe = new URL("../../bench/lib/event-loop-probe.mjs", import.meta.url).pathname;

/** Runs `script` with the probe loaded (on CPU 0 only, when `cpu0` is set) and returns what the probe printed. */
function probed(script: string, cpu0 = false): EventLoopFigures {
  const args = ["--import", probe, "--input-type=module", "-e", script];
  const run = cpu0 ? spawnSync("taskset", ["-c", "0", process.execPath, ...args], { encoding: "utf8" }) : spawnSync(process.execPath, args, { encoding: "utf8" });
  expect(run.status, run.stderr).toBe(0);
  const figures = eventLoopFiguresIn(run.stderr);
  expect(figures, run.stderr).toBeDefined();
  return figures!;
}

/** Lets the probe's timer run a few ticks, blocks the loop by `block`, lets it tick again, and exits. */
const around = (block: string) => `
  await new Promise((r) => setTimeout(r, 50));
  ${block}
  await new Promise((r) => setTimeout(r, 50));
`;

describe.skipIf(process.platform !== "linux")("the bench's event-loop probe", () => {
  it("counts a loop blocked by its own work as a stall the main thread spent running", () => {
    const f = probed(around("const end = performance.now() + 300; while (performance.now() < end);"));
    expect(f.stalls).toBeGreaterThanOrEqual(1);
    expect(f.stalledMs).toBeGreaterThanOrEqual(290);
    expect(f.stalledRunningMs! / f.stalledMs!).toBeGreaterThan(0.5);
  });

  it("counts a loop whose thread slept as a stall neither running nor waiting for a core", () => {
    const f = probed(around("Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);"));
    expect(f.stalls).toBeGreaterThanOrEqual(1);
    expect(f.stalledMs).toBeGreaterThanOrEqual(290);
    expect(f.stalledRunningMs! + f.stalledWaitingMs!).toBeLessThan(0.2 * f.stalledMs!);
  });

  it("counts a loop whose thread shared its only core with a busy process as a stall spent largely waiting for that core", async () => {
    // A second process spinning on CPU 0 for the whole run, and the probed one confined there too.
    const spinner = spawn("taskset", ["-c", "0", process.execPath, "-e", "const end = Date.now() + 5000; while (Date.now() < end);"], { stdio: "ignore" });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const f = probed(around("const end = performance.now() + 600; while (performance.now() < end);"), true);
      expect(f.stalls).toBeGreaterThanOrEqual(1);
      expect(f.stalledWaitingMs! / f.stalledMs!).toBeGreaterThan(0.25);
      expect(f.stalledRunningMs! / f.stalledMs!).toBeGreaterThan(0.25);
    } finally {
      spinner.kill("SIGKILL");
    }
  });

  it("reports the loop's delay and busy share beside the stalls", () => {
    const f = probed(around(""));
    expect(f).toMatchObject({ p50Ms: expect.any(Number), p99Ms: expect.any(Number), maxMs: expect.any(Number), utilization: expect.any(Number), stalls: expect.any(Number) });
  });
});
