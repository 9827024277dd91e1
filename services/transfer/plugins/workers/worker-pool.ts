/**
 * The pool of format worker threads.
 *
 * One job per thread at a time. That is what makes a broken plugin fail only
 * its own job: a plugin stuck in an endless loop or out of memory can only be
 * stopped by terminating its whole thread, which would also kill every other
 * job multiplexed onto it. A thread has one event loop anyway, so two
 * CPU-bound jobs on one thread would not run faster than on two.
 *
 * Because a job holds its thread for as long as the export or import runs
 * (minutes for a million rows, mostly waiting on the database), a fixed pool
 * of `size` threads would make a small export wait behind big ones. So
 * threads start on demand, up to `maxWorkers` at once; after their job, up
 * to `size` of them (default: one per core) stay ready, and the others end
 * after `idleTimeoutMs` without a job. Only beyond `maxWorkers` do jobs
 * wait, first come first served. Threads are not started ahead of demand,
 * and the one that checks the plugins at start ends after it: a thread costs
 * its own V8 heap and the plugins' modules (and, for plugins the compiled
 * build did not compile, tsx's loader thread), so an idle service keeps only
 * the threads its jobs have needed.
 *
 * A thread that ends (stopped for a time-out, out of memory, crashed) is
 * dropped and counted; the next job gets a fresh thread.
 *
 * Why not piscina (tried: piscina 5.3.2, 1 December 2026; tinypool 2.2.0 is
 * its fork with the same thread model). Built on it, with the job protocol
 * unchanged on its own `MessagePort` (transferred with the task), this pool
 * passed the worker tests: `resourceLimits` per thread (out of memory),
 * `idleTimeout`, `minThreads: 0`, an `AbortSignal` per task that terminates
 * a stuck thread, queueing beyond `maxThreads`. The bench's `workers`
 * section did not tell the two apart beyond its noise (bench/README.md, "Why
 * the pool is our own"), and the pool's code shrank from 278 to 138 lines
 * (676 to 539 with the job's side). What it cannot do is the policy above:
 * its `minThreads` are started with the pool and restarted after every kill,
 * and only threads above them end when idle. So either every job after an
 * idle spell waits for a thread to start (`minThreads: 0`; an XLSX job
 * measured 6.6–7.0 s under tsx on the shared 2-core machine at load 16,
 * against 24–48 ms on the thread kept here), or `poolSize` threads (one per
 * core by default) run from start-up whether jobs come or not, at ~38 MB
 * each. It also needed work-arounds: it does not tell a caller when a queued
 * task reaches a thread (the time limit must not run in the queue, so the
 * job had to announce itself), and a task aborted just as it completes makes
 * it emit an `error` event that ends a process without a listener.
 */
import { FormatWorker, type WorkerEnd } from "./format-worker.js";
import type { PluginRef } from "./protocol.js";

export interface WorkerPoolOptions {
  /** Threads kept ready between jobs. */
  size: number;
  /** Most threads at once (and so most jobs running at once); later jobs wait. */
  maxWorkers: number;
  /** Heap limit per thread, MiB. */
  memoryLimitMb: number;
  /** Added to each thread's nice value (format-worker.ts); 0 when not given. */
  niceness?: number;
  /** Threads register tsx for plugins a compiled service did not compile (see FormatWorkerOptions). */
  typeScriptPlugins?: boolean;
  /** How long a thread beyond `size` may stay idle before it ends. */
  idleTimeoutMs?: number;
}

export interface WorkerPoolStats {
  size: number;
  maxWorkers: number;
  /** Threads alive now (starting, idle or busy). */
  workers: number;
  /** Threads still loading their code. */
  starting: number;
  busy: number;
  idle: number;
  /** Jobs waiting for a thread. */
  queued: number;
  /** Threads started since the pool was created. */
  started: number;
  /** Jobs handed to a thread. */
  jobs: number;
  /** Threads that ended, by why (a replaced thread shows up here). */
  ended: Record<WorkerEnd["kind"], number>;
}

/** The pool was closed (the service is stopping): no new job can start. */
export class WorkerPoolClosedError extends Error {
  override name = "WorkerPoolClosedError";
  constructor() {
    super("the format worker pool is shut down (the service is shutting down)");
  }
}

export class WorkerPool {
  private readonly all = new Set<FormatWorker>();
  private readonly idle: FormatWorker[] = [];
  private readonly idleTimers = new Map<FormatWorker, NodeJS.Timeout>();
  private readonly waiting: { resolve(w: FormatWorker): void; reject(e: unknown): void }[] = [];
  /** Threads in `all` still loading their code. */
  private starting = 0;
  private closed = false;
  private counts = { started: 0, jobs: 0, ended: { "timed-out": 0, "out-of-memory": 0, crashed: 0, stopped: 0 } };

  constructor(readonly options: WorkerPoolOptions) {
    if (!(options.size >= 1 && options.maxWorkers >= options.size)) throw new Error("the worker pool needs 1 ≤ size ≤ maxWorkers");
  }

  /** A thread for one job: an idle one, a new one while below `maxWorkers`, or the next one freed. */
  async acquire(): Promise<FormatWorker> {
    if (this.closed) throw new WorkerPoolClosedError();
    const idle = this.idle.pop();
    if (idle) return this.hand(idle);
    if (this.all.size < this.options.maxWorkers) return this.hand(await this.start());
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** A thread whose job ended cleanly goes back to the pool (or straight to a waiting job). */
  release(worker: FormatWorker): void {
    if (worker.end || !this.all.has(worker)) return;
    if (this.closed) {
      void worker.terminate({ kind: "stopped", detail: "the pool was shut down" });
      return;
    }
    const next = this.waiting.shift();
    if (next) {
      next.resolve(this.hand(worker));
      return;
    }
    worker.keepsProcessAlive(false);
    this.idle.push(worker);
    if (this.all.size > this.options.size) {
      const timer = setTimeout(() => void this.retire(worker), this.options.idleTimeoutMs ?? 30_000);
      timer.unref();
      this.idleTimers.set(worker, timer);
    }
  }

  /** Stops a thread whose job went wrong (a time-out); the pool forgets it once it has exited. */
  discard(worker: FormatWorker, reason: WorkerEnd): Promise<void> {
    return worker.terminate(reason);
  }

  /** Starts threads until `size` are alive, so the first jobs do not wait for a thread to start. */
  async warm(): Promise<void> {
    const missing = this.options.size - this.all.size;
    const started = await Promise.allSettled(Array.from({ length: Math.max(0, missing) }, () => this.start()));
    for (const s of started) if (s.status === "fulfilled") this.release(s.value);
  }

  /**
   * Loads each plugin in a thread, one after another, and returns those that
   * cannot be loaded there, with why. A plugin whose module does not finish
   * loading within `timeLimitMs` is reported, its thread stopped, and the
   * others are loaded in a fresh one, so the service still starts.
   *
   * The checking thread ends afterwards instead of staying ready: it holds
   * every probed plugin's modules (the spreadsheets' XML and ZIP code), and a
   * service whose jobs need no worker — most exports and imports are CSV or
   * JSON, in-thread — would carry it all its life (a thread is ~22 MB of RSS
   * compiled, ~45 MB under tsx; bench/README.md, "Compiled build" and "Memory
   * under load"). The first job that needs a thread starts one, as any job
   * beyond the ready ones does.
   */
  async probe(plugins: PluginRef[], timeLimitMs: number): Promise<{ name: string; error: string }[]> {
    const failures: { name: string; error: string }[] = [];
    const pending = [...plugins];
    while (pending.length > 0) {
      const worker = await this.acquire();
      try {
        while (pending.length > 0) {
          const plugin = pending.shift()!;
          const answer = worker.receive("probed");
          worker.post({ type: "probe", plugins: [plugin] });
          let timer: NodeJS.Timeout | undefined;
          const probed = await Promise.race([answer, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeLimitMs)))]).finally(() => clearTimeout(timer));
          if (probed) {
            failures.push(...probed.failures);
            continue;
          }
          answer.catch(() => undefined);
          failures.push({ name: plugin.name, error: `its module did not finish loading in a worker within ${timeLimitMs} ms (formatWorkers.timeLimitMs)` });
          await this.discard(worker, { kind: "timed-out", detail: `loading ${plugin.name} took longer than ${timeLimitMs} ms` });
          break;
        }
      } finally {
        if (!worker.end) await worker.terminate({ kind: "stopped", detail: "its start-up check was done" });
      }
    }
    return failures;
  }

  stats(): WorkerPoolStats {
    const idle = this.idle.length;
    return {
      size: this.options.size,
      maxWorkers: this.options.maxWorkers,
      workers: this.all.size,
      starting: this.starting,
      busy: this.all.size - idle - this.starting,
      idle,
      queued: this.waiting.length,
      started: this.counts.started,
      jobs: this.counts.jobs,
      ended: { ...this.counts.ended },
    };
  }

  /** Ends every thread (jobs still running on one fail) and refuses new jobs. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter.reject(new WorkerPoolClosedError());
    await Promise.all([...this.all].map((w) => w.terminate({ kind: "stopped", detail: "the format worker pool was shut down (the service is stopping)" })));
  }

  private async start(): Promise<FormatWorker> {
    const worker = new FormatWorker({ memoryLimitMb: this.options.memoryLimitMb, niceness: this.options.niceness, typeScriptPlugins: this.options.typeScriptPlugins });
    this.counts.started++;
    this.all.add(worker);
    worker.onEnd((end) => this.forget(worker, end));
    this.starting++;
    try {
      await worker.ready;
    } finally {
      this.starting--;
    }
    if (this.closed) {
      await worker.terminate({ kind: "stopped", detail: "the pool was shut down" });
      throw new WorkerPoolClosedError();
    }
    return worker;
  }

  private hand(worker: FormatWorker): FormatWorker {
    const timer = this.idleTimers.get(worker);
    if (timer) clearTimeout(timer);
    this.idleTimers.delete(worker);
    worker.keepsProcessAlive(true);
    worker.jobs++;
    this.counts.jobs++;
    return worker;
  }

  private async retire(worker: FormatWorker): Promise<void> {
    this.idleTimers.delete(worker);
    const at = this.idle.indexOf(worker);
    if (at < 0 || this.all.size <= this.options.size) return;
    this.idle.splice(at, 1);
    await worker.terminate({ kind: "stopped", detail: "idle beyond the pool size" });
  }

  private forget(worker: FormatWorker, end: WorkerEnd): void {
    this.all.delete(worker);
    const at = this.idle.indexOf(worker);
    if (at >= 0) this.idle.splice(at, 1);
    const timer = this.idleTimers.get(worker);
    if (timer) clearTimeout(timer);
    this.idleTimers.delete(worker);
    this.counts.ended[end.kind]++;
    // A job waiting for a thread gets a fresh one now that there is room.
    if (!this.closed && this.waiting.length > 0 && this.all.size < this.options.maxWorkers) {
      const next = this.waiting.shift()!;
      this.start().then((w) => next.resolve(this.hand(w)), next.reject);
    }
  }
}
