/**
 * A format worker thread's CPU priority (formatWorkers.niceness).
 *
 * A plugin's work is throughput; the event loop's is latency (health checks,
 * other calls, the job's own bytes): when there are fewer cores than busy
 * threads, the kernel should give the loop its turn first. So a thread
 * lowers its priority by `niceness` — but only once it has loaded a job's
 * plugin and is about to convert: loading (compiling, for TypeScript
 * plugins) is start-up work the job's time limit counts as silence, and a
 * thread starved while loading on a busy machine timed out before it began.
 * Lowering is one-way (raising it back needs privileges), so it happens once.
 *
 * Linux only: there each thread has a nice value of its own, and
 * `setPriority(0, …)` (setpriority(PRIO_PROCESS, 0)) names the calling
 * thread; elsewhere it would name the whole process, so nothing changes.
 */
import { getPriority, setPriority } from "node:os";

let lowered = false;

/**
 * Lowers this thread's priority by `niceness` (the first time only); its nice
 * value after, where it can tell. A system that refuses the change (a seccomp
 * profile without setpriority) leaves the thread as it was: the job runs.
 */
export function lowerThreadPriorityOnce(niceness: number): number | undefined {
  if (process.platform !== "linux") return undefined;
  try {
    if (!lowered && niceness > 0) setPriority(0, Math.min(19, getPriority(0) + niceness));
    return getPriority(0);
  } catch {
    return undefined;
  } finally {
    lowered = true;
  }
}
