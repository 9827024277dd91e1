/**
 * Format worker threads run at a lower CPU priority than the service's event
 * loop (formatWorkers.niceness), so that health checks and other calls are
 * answered first when there are fewer cores than busy threads. The thread's
 * own report is checked against the kernel's: its nice value in
 * /proc/self/task/<tid>/stat.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { getPriority } from "node:os";
import { describe, expect, it } from "vitest";
import { WorkerPool } from "../../../services/transfer/plugins/workers/index.js";

/** The nice value of every thread of this process, as the kernel has it (field 19 of a task's stat). */
function threadNiceValues(): number[] {
  const values: number[] = [];
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      values.push(Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]));
    } catch {
      // the thread ended while we looked
    }
  }
  return values;
}

describe.runIf(process.platform === "linux" && existsSync("/proc/self/task"))("a format worker thread's priority", () => {
  // A new thread starts with the nice value of the thread that made it: this test's.
  const own = getPriority(0);

  it("is the service's lowered by niceness, as the thread reports and the kernel has it", async () => {
    const niceness = Math.min(7, 19 - own);
    const pool = new WorkerPool({ size: 1, maxWorkers: 1, memoryLimitMb: 64, niceness });
    try {
      const worker = await pool.acquire();
      expect(worker.nice).toBe(own + niceness);
      expect(threadNiceValues()).toContain(own + niceness);
      expect(getPriority(0)).toBe(own); // the calling thread kept its own
      pool.release(worker);
    } finally {
      await pool.close();
    }
  });

  it("stays the service's with niceness 0", async () => {
    const before = threadNiceValues().filter((n) => n !== own).length;
    const pool = new WorkerPool({ size: 1, maxWorkers: 1, memoryLimitMb: 64, niceness: 0 });
    try {
      const worker = await pool.acquire();
      expect(worker.nice).toBe(own);
      expect(threadNiceValues().filter((n) => n !== own)).toHaveLength(before);
      pool.release(worker);
    } finally {
      await pool.close();
    }
  });

  it("goes no lower than 19, the lowest there is", async () => {
    const pool = new WorkerPool({ size: 1, maxWorkers: 1, memoryLimitMb: 64, niceness: 19 });
    try {
      const worker = await pool.acquire();
      expect(worker.nice).toBe(19);
      pool.release(worker);
    } finally {
      await pool.close();
    }
  });
});
