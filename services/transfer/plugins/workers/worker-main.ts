/**
 * The format worker's main module (started by worker-entry.mjs): it takes
 * one job at a time from the pool, each with a port of its own, and answers
 * probes (can these plugins be loaded here?). It says `ready` once its own
 * code is loaded, so the pool never hands a job to a thread still starting,
 * and with it the thread's nice value, lowered first by `niceness`
 * (format-worker.ts says why).
 */
import { getPriority, setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { runJobInWorker } from "./job-in-worker.js";
import { loadPluginInWorker } from "./plugin-loader.js";
import type { FromWorker, ToWorker } from "./protocol.js";

if (!parentPort) throw new Error("worker-main.ts runs only as a worker thread (see worker-pool.ts)");
const port = parentPort;

function reply(message: FromWorker): void {
  port.postMessage(message);
}

port.on("message", (message: ToWorker) => {
  if (message.type === "job") {
    void runJobInWorker(message.port, message.job, loadPluginInWorker);
  } else if (message.type === "probe") {
    void (async () => {
      const failures: { name: string; error: string }[] = [];
      for (const ref of message.plugins) {
        await loadPluginInWorker(ref).catch((error: unknown) => failures.push({ name: ref.name, error: (error as Error)?.message ?? String(error) }));
      }
      reply({ type: "probed", failures });
    })();
  }
});

/**
 * Lowers this thread's priority by `niceness` and says what it is then. Only
 * on Linux, where `setPriority(0, …)` (setpriority(PRIO_PROCESS, 0)) names
 * the calling thread; elsewhere it would name the whole process.
 */
function lowerPriority(niceness: number): number | undefined {
  if (process.platform !== "linux") return undefined;
  if (niceness > 0) setPriority(0, Math.min(19, getPriority(0) + niceness));
  return getPriority(0);
}

reply({ type: "ready", nice: lowerPriority((workerData as { niceness?: number }).niceness ?? 0) });
