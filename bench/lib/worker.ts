/**
 * The worker side of {@link runWorker}: arguments in, one JSON result line
 * out, with the worker's own peak RSS added. A failure exits non-zero with
 * the error on stderr, so the orchestrator reports it instead of a number.
 */
import type { WorkerResult } from "./processes.js";

export function runAsWorker<A>(work: (args: A) => Promise<Omit<WorkerResult, "rssMb">>): void {
  const args = JSON.parse(process.env.BENCH_ARGS ?? "{}") as A;
  const cpuAtStart = process.cpuUsage();
  work(args).then(
    (result) => {
      const rssMb = process.resourceUsage().maxRSS / 1024;
      const cpu = process.cpuUsage(cpuAtStart);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      process.stdout.write(`\n${JSON.stringify({ ...result, rssMb, cpuMs })}\n`, () => process.exit(0));
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
