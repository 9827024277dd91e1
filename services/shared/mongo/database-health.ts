/**
 * Keeps a service's `grpc.health.v1` status in step with its database:
 * NOT_SERVING while the database does not answer a ping, SERVING again on
 * its own once it does — so load balancers and probes stop sending calls
 * that could only fail, and send them again without anyone restarting
 * anything.
 *
 * The ping runs every `everyMs` while the database answers and every
 * `downEveryMs` while it does not (a recovery is noticed within about a
 * second), each bounded by `timeoutMs`: a database that accepts connections
 * but never answers (a frozen process, a partition) counts as down too.
 */
import type { Db } from "mongodb";
import type { Logger } from "../logging/index.js";
import { ServingStatus, type HealthService } from "../rpc/health-service.js";

export interface DatabaseHealthOptions {
  /** Service names whose status follows the database; the overall status ("") always does. */
  services: string[];
  everyMs?: number;
  downEveryMs?: number;
  timeoutMs?: number;
  /** Told when the database goes away or comes back (for the service's log). */
  onChange?: (reachable: boolean, error?: unknown) => void;
}

/** Starts watching; returns the function that stops it. */
export function watchDatabaseHealth(db: Db, health: HealthService, options: DatabaseHealthOptions): () => void {
  const everyMs = options.everyMs ?? 2_000;
  const downEveryMs = options.downEveryMs ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 2_000;
  let reachable = true;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const check = async () => {
    let error: unknown;
    const ok = await db.command({ ping: 1 }, { timeoutMS: timeoutMs }).then(
      () => true,
      (e: unknown) => {
        error = e;
        return false;
      },
    );
    if (stopped) return;
    if (ok !== reachable) {
      reachable = ok;
      const status = ok ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
      for (const service of ["", ...options.services]) health.setStatus(service, status);
      options.onChange?.(ok, error);
    }
    timer = setTimeout(check, ok ? everyMs : downEveryMs);
    timer.unref();
  };
  timer = setTimeout(check, everyMs);
  timer.unref();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** An `onChange` that writes one line when the database goes away (warn) and one when it is back (info). */
export function databaseChangeLogger(log: Pick<Logger, "info" | "warn">): (reachable: boolean, error?: unknown) => void {
  return (reachable, error) => {
    if (reachable) log.info({ database: "reachable" }, "database reachable again: health is SERVING");
    else log.warn({ database: "unreachable", reason: error instanceof Error ? error.message : String(error) }, "database unreachable: health is NOT_SERVING until it answers");
  };
}
