/**
 * The format worker's main module (started by worker-entry.mjs): it takes
 * one job at a time from the pool, each with a port of its own, and answers
 * probes (can these plugins be loaded here?). It says `ready` once its own
 * code is loaded, so the pool never hands a job to a thread still starting.
 * A job's plugin runs at the lower priority `niceness` asks for, once it is
 * loaded (thread-priority.ts).
 */
import { parentPort, workerData } from "node:worker_threads";
import { lowerThreadPriorityOnce } from "./thread-priority.js";
import { runJobInWorker } from "./job-in-worker.js";
import { loadPluginInWorker } from "./plugin-loader.js";
import type { FromWorker, ToWorker } from "./protocol.js";

if (!parentPort) throw new Error("worker-main.ts runs only as a worker thread (see worker-pool.ts)");
const port = parentPort;
const niceness = (workerData as { niceness?: number }).niceness ?? 0;

function reply(message: FromWorker): void {
  port.postMessage(message);
}

port.on("message", (message: ToWorker) => {
  if (message.type === "job") {
    void runJobInWorker(message.port, message.job, loadPluginInWorker, () => lowerThreadPriorityOnce(niceness));
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

reply({ type: "ready" });
