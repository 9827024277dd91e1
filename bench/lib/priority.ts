/**
 * Lowers a running process's CPU priority, every thread of it, for a while.
 *
 * Why: on the bench's machine the database and the job clients share the
 * services' two cores, where in production each would have a machine of its
 * own. The mixed load's `--colocated-nice` lets those stand-ins yield a core
 * to the services, so `Health.Check` measures the services' own event loops
 * rather than the queue for a core (bench/README.md, "Mixed load: what the
 * probes cost, and the stand-ins yielding").
 *
 * Linux keeps a nice value per thread, and a new thread takes its creator's,
 * so lowering every thread that exists now covers the ones started later.
 */
import { readdirSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

/**
 * Sets every thread of `pid` to `nice` (higher is lower priority) and returns
 * what puts each back. Raising a priority again needs root (CAP_SYS_NICE): if
 * that is refused, the returned function says so instead of throwing, since
 * the process keeps running correctly, only slower.
 */
export function lowerPriority(pid: number, nice: number): () => string | undefined {
  const before = new Map<number, number>();
  for (const entry of readdirSync(`/proc/${pid}/task`)) {
    const tid = Number(entry);
    try {
      before.set(tid, getPriority(tid));
      setPriority(tid, nice);
    } catch (error) {
      // A thread that ended between the listing and now has nothing to lower; anything else is an error.
      if (!endedThread(error)) throw error;
    }
  }
  return () => {
    const refused: number[] = [];
    for (const [tid, value] of before) {
      try {
        setPriority(tid, value);
      } catch (error) {
        if (!endedThread(error)) refused.push(tid);
      }
    }
    return refused.length > 0 ? `could not give ${refused.length} thread(s) of process ${pid} their priority back (raising it needs root); it stays at nice ${nice}` : undefined;
  };
}

/**
 * os.getPriority/setPriority's error for a thread that no longer exists: Node
 * reports it as ERR_SYSTEM_ERROR with the system's code (ESRCH) in `info`.
 */
function endedThread(error: unknown): boolean {
  return (error as { info?: { code?: string } }).info?.code === "ESRCH";
}
