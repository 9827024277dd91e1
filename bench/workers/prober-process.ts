/**
 * Starts unary-prober.ts as a process of its own and speaks its line
 * protocol: it probes idle first, then between `start()` and `stop()`, and
 * `stop()` resolves with every call's duration. A probe on the process that
 * drives the jobs waits for that process's event loop too, and measures the
 * bench's clients as much as the service.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { nodeArgs, REPO } from "../lib/processes.js";
import type { LatencyProbes, UnaryProberArgs } from "./unary-prober.js";

export interface ProberProcess {
  /** Probing under load begins (idempotent). */
  start(): void;
  /** Probing ends; resolves with the idle and the under-load durations. */
  stop(): Promise<{ idle: LatencyProbes; busy: LatencyProbes }>;
  /** Ends the process (after stop, or when the caller gives up). */
  kill(): void;
}

/** Resolves once the prober has taken its idle probes. */
export async function startProber(args: UnaryProberArgs): Promise<ProberProcess> {
  const prober = spawn(process.execPath, nodeArgs("bench/workers/unary-prober.ts"), {
    cwd: REPO,
    env: { ...process.env, BENCH_ARGS: JSON.stringify(args) },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => prober.once("exit", resolve));
  const lines = createInterface({ input: prober.stdout! })[Symbol.asyncIterator]();
  const nextLine = async (): Promise<Record<string, unknown>> => {
    const next = await lines.next();
    if (next.done) throw new Error(`the prober ended early (exit ${await exited})`);
    return JSON.parse(next.value) as Record<string, unknown>;
  };
  try {
    await nextLine(); // {"idle":"done"}
  } catch (error) {
    prober.kill();
    throw error;
  }
  let started = false;
  return {
    start() {
      if (!started) prober.stdin!.write("start\n");
      started = true;
    },
    async stop() {
      prober.stdin!.write("stop\n");
      return (await nextLine()) as unknown as { idle: LatencyProbes; busy: LatencyProbes };
    },
    kill: () => prober.kill(),
  };
}
