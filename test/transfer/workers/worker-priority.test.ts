/**
 * Format worker threads convert at a lower CPU priority than the service's
 * event loop (formatWorkers.niceness), so that health checks and other calls
 * are answered first when there are fewer cores than busy threads — and
 * load their plugin at the service's, so that start-up on a busy machine is
 * not starved into a time-out (thread-priority.ts). The thread's own report
 * is checked against the kernel's: its nice value in
 * /proc/self/task/<tid>/stat.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { getPriority } from "node:os";
import { beforeAll, describe, expect, it } from "vitest";
import type { Column, FormatPlugin, Row } from "../../../formats/_sdk/index.js";
import { defaultFormatsDir, discoverPlugins } from "../../../services/transfer/plugins/index.js";
import { WorkerPool, workerBackedPlugin } from "../../../services/transfer/plugins/workers/index.js";

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

const columns: Column[] = [{ key: "id", label: "id", type: "number" }];

describe.runIf(process.platform === "linux" && existsSync("/proc/self/task"))("a format worker thread's priority", () => {
  // A new thread starts with the nice value of the thread that made it: this test's.
  const own = getPriority(0);
  let csv: FormatPlugin;
  let entry: string;
  beforeAll(async () => {
    const discovered = await discoverPlugins([defaultFormatsDir()]);
    csv = discovered.plugins.get("csv")!;
    entry = discovered.entries.get("csv")!;
  });

  /** A pool of one thread that writes one CSV job, then the thread (idle again) and what the kernel says. */
  async function afterOneJob(niceness: number) {
    const pool = new WorkerPool({ size: 1, maxWorkers: 1, memoryLimitMb: 64, niceness });
    try {
      await pool.warm();
      const beforeJob = threadNiceValues();
      const plugin = workerBackedPlugin(csv, { pool, entry, timeLimitMs: 30_000 });
      async function* rows(): AsyncGenerator<Row[]> {
        yield [{ id: 1 }, { id: 2 }];
      }
      const out: Uint8Array[] = [];
      for await (const chunk of plugin.write!(rows(), { columns, options: csv.options.parse({}), useLabels: false })) out.push(chunk);
      expect(Buffer.concat(out).toString("utf8")).toBe("id\r\n1\r\n2\r\n");
      const worker = await pool.acquire();
      const afterJob = threadNiceValues();
      pool.release(worker);
      return { beforeJob, afterJob, reported: worker.nice };
    } finally {
      await pool.close();
    }
  }

  it("is the service's while the thread loads, and lowered by niceness once it converts, as it reports and the kernel has it", async () => {
    const niceness = Math.min(7, 19 - own);
    const { beforeJob, afterJob, reported } = await afterOneJob(niceness);
    expect(beforeJob).not.toContain(own + niceness);
    expect(reported).toBe(own + niceness);
    expect(afterJob).toContain(own + niceness);
    expect(getPriority(0)).toBe(own); // the calling thread kept its own
  });

  it("stays the service's with niceness 0", async () => {
    const { afterJob, reported } = await afterOneJob(0);
    expect(reported).toBe(own);
    expect(afterJob.filter((n) => n !== own)).toEqual([]);
  });

  it("goes no lower than 19, the lowest there is", async () => {
    const { reported } = await afterOneJob(19);
    expect(reported).toBe(19);
  });
});
