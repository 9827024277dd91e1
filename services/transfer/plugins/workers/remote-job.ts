/**
 * The main thread's side of one job in a worker: it feeds the plugin's input
 * from the caller's iterable, hands the plugin's output to the caller's
 * consumer, and enforces the time limit.
 *
 * - Backpressure crosses the boundary both ways (protocol.ts): the input is
 *   pulled only while the worker has room for it, and the worker produces
 *   only as far ahead as the consumer has taken.
 * - The caller's input is closed whatever happens (its `return()` runs, so a
 *   records cursor behind it is closed), like a plugin's `for await` would
 *   close it in-thread.
 * - An error of the input (a cancelled job, an upload over its size limit)
 *   reaches the consumer as itself; an error of the plugin as a
 *   `FormatError` (the file) or a `FormatPluginError` naming the plugin.
 * - The worker goes back to the pool once the plugin is finished or has
 *   confirmed it stopped; a worker that does not confirm in time, or makes
 *   no progress within the limit, is terminated and the pool replaces it.
 */
import { MessageChannel, type MessagePort } from "node:worker_threads";
import { rebuildError } from "./error-codec.js";
import type { FormatWorker, WorkerEnd } from "./format-worker.js";
import { PushQueue } from "../../../shared/streams/push-queue.js";
import { unpackReadItems, type PackedReadItems } from "./read-items-codec.js";
import { FormatPluginError } from "../plugin-errors.js";
import { ProgressWatchdog } from "./progress-watchdog.js";
import type { FromJob, JobSpec, JobValue, ToJob } from "./protocol.js";
import { asBuffer, transferable } from "./transferable-bytes.js";
import { WorkerPoolClosedError, type WorkerPool } from "./worker-pool.js";

export interface RemoteJobOptions {
  /** Longest silence of a plugin that owes progress (progress-watchdog.ts), ms. */
  timeLimitMs: number;
}

/** Runs `spec` on a thread of `pool` over `input`, yielding the plugin's output batches. */
export async function* runInWorker(pool: WorkerPool, spec: JobSpec, input: AsyncIterable<JobValue>, options: RemoteJobOptions): AsyncGenerator<JobValue> {
  const worker = await pool.acquire();
  const job = new RemoteJob(pool, worker, spec, input, options.timeLimitMs);
  try {
    while (true) {
      const next = await job.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await job.close();
  }
}

class RemoteJob {
  private readonly port: MessagePort;
  private readonly outputs = new PushQueue<JobValue>();
  private readonly watchdog: ProgressWatchdog;
  private readonly offEnd: () => void;
  /** Input batches the worker may still be sent. */
  private inputCredit: number;
  /** Input batches sent that the plugin has not taken yet. */
  private inFlight = 0;
  private inputEnded = false;
  /** Output batches the worker may still send. */
  private outputCredit: number;
  private started = false;
  /** The plugin finished, failed, or confirmed it stopped; or the worker ended. */
  private settled = false;
  private aborting = false;
  private stopped = false;
  private wakePump: (() => void) | undefined;
  /** Credits granted but not sent yet: they ride along with the next input, or go on their own after this turn. */
  private pendingCredit = 0;
  private creditScheduled = false;
  private onSettled: (() => void) | undefined;
  private readonly source: AsyncIterator<JobValue>;
  private pendingPull: Promise<IteratorResult<JobValue>> | undefined;
  private sourceDone = false;

  constructor(
    private readonly pool: WorkerPool,
    private readonly worker: FormatWorker,
    private readonly spec: JobSpec,
    input: AsyncIterable<JobValue>,
    private readonly timeLimitMs: number,
  ) {
    this.inputCredit = spec.inputWindow;
    this.outputCredit = spec.outputWindow;
    this.source = input[Symbol.asyncIterator]();
    this.watchdog = new ProgressWatchdog(timeLimitMs, () => this.timedOut());
    const channel = new MessageChannel();
    this.port = channel.port1;
    try {
      worker.post({ type: "job", port: channel.port2, job: spec }, [channel.port2]);
    } catch (error) {
      // The job's settings cannot cross (options a schema turned into functions or class instances).
      this.port.close();
      pool.release(worker);
      void Promise.resolve(this.source.return?.()).catch(() => undefined);
      throw new FormatPluginError(spec.plugin.name, "failed", `its parsed options cannot be sent to a format worker (${(error as Error).message})`, { cause: error });
    }
    this.port.on("message", (message: FromJob) => this.receive(message));
    this.offEnd = worker.onEnd((end) => this.workerEnded(end));
    this.updateWatchdog();
    void this.pump();
  }

  /** The next output batch; taking one grants the worker a credit for another. */
  async next(): Promise<IteratorResult<JobValue>> {
    const next = await this.outputs.next();
    if (!next.done && !this.settled) {
      this.outputCredit++;
      this.pendingCredit++;
      if (!this.creditScheduled) {
        this.creditScheduled = true;
        setImmediate(() => this.flushCredit());
      }
      this.updateWatchdog();
    }
    return next;
  }

  /** Ends the job from the consumer's side: stops the plugin if it still runs, closes the input, frees the worker. */
  async close(): Promise<void> {
    this.stopped = true;
    this.wakePump?.();
    if (!this.settled) {
      const settled = new Promise<void>((resolve) => (this.onSettled = resolve));
      this.aborting = true;
      this.send({ type: "abort" });
      this.updateWatchdog();
      await settled;
    }
    await this.closeSource();
  }

  private receive(message: FromJob): void {
    if (this.settled) return;
    this.watchdog.progressed();
    switch (message.type) {
      case "started":
        this.started = true;
        this.worker.startedJob(message.nice);
        break;
      case "ack":
        this.acknowledged(message.n);
        break;
      case "output":
        if (message.acks) this.acknowledged(message.acks);
        this.outputCredit--;
        this.outputs.push(this.spec.operation === "write" ? asBuffer(message.value as Uint8Array) : unpackReadItems(message.value as PackedReadItems));
        break;
      case "done":
        this.outputs.end();
        this.settle(true);
        break;
      case "error":
        this.outputs.fail(rebuildError(this.spec.plugin.name, message.error, message.phase === "load" ? "load" : "failed"));
        this.settle(true);
        break;
      case "closed":
        this.settle(true);
        break;
    }
    this.updateWatchdog();
  }

  private acknowledged(n: number): void {
    this.inFlight -= n;
    this.inputCredit += n;
    this.wakePump?.();
  }

  private flushCredit(): void {
    this.creditScheduled = false;
    if (this.pendingCredit > 0) this.send({ type: "credit", n: this.pendingCredit });
    this.pendingCredit = 0;
  }

  private takeCredit(): number | undefined {
    const n = this.pendingCredit;
    this.pendingCredit = 0;
    return n > 0 ? n : undefined;
  }

  /** Feeds the worker from the input while it has credit. */
  private async pump(): Promise<void> {
    try {
      while (!this.stopped) {
        while (this.inputCredit === 0 && !this.stopped) await new Promise<void>((resolve) => (this.wakePump = resolve));
        this.wakePump = undefined;
        if (this.stopped) return;
        this.pendingPull = this.source.next();
        const next = await this.pendingPull;
        this.pendingPull = undefined;
        if (this.stopped) return;
        if (next.done) {
          this.sourceDone = true;
          this.inputEnded = true;
          this.send({ type: "end" });
          this.updateWatchdog();
          return;
        }
        this.inputCredit--;
        this.inFlight++;
        if (this.spec.operation === "read") {
          const { bytes, transfer } = transferable(next.value as Uint8Array, false);
          this.send({ type: "input", value: bytes, credit: this.takeCredit() }, transfer);
        } else {
          this.send({ type: "input", value: next.value, credit: this.takeCredit() });
        }
        this.updateWatchdog();
      }
    } catch (error) {
      this.pendingPull = undefined;
      this.sourceDone = true; // an iterator that threw is finished
      // The input failed (cancelled, over a limit) or could not be sent: the consumer sees that error; the plugin is stopped.
      if (!this.settled) {
        this.outputs.fail(error);
        this.stopped = true;
        this.aborting = true;
        this.send({ type: "abort" });
        this.updateWatchdog();
      }
    }
  }

  /** Closes the caller's input unless it ended; fire-and-forget while a pull is pending (it cannot return before it wakes). */
  private async closeSource(): Promise<void> {
    if (this.sourceDone) return;
    this.sourceDone = true;
    if (this.pendingPull) {
      this.pendingPull.catch(() => undefined);
      void Promise.resolve(this.source.return?.()).catch(() => undefined);
    } else {
      await this.source.return?.();
    }
  }

  private updateWatchdog(): void {
    const owed = this.aborting || !this.started || (this.outputCredit > 0 && (this.inFlight > 0 || this.inputEnded));
    this.watchdog.expect(!this.settled && owed);
  }

  private timedOut(): void {
    const doing = !this.started ? "loading" : this.aborting ? "stopping" : this.spec.operation === "write" ? "writing" : "reading";
    void this.pool.discard(this.worker, { kind: "timed-out", detail: `no progress for ${this.timeLimitMs} ms while ${doing} (formatWorkers.timeLimitMs); its worker was stopped` });
  }

  private workerEnded(end: WorkerEnd): void {
    if (this.settled) return;
    this.outputs.fail(end.kind === "stopped" ? new WorkerPoolClosedError() : new FormatPluginError(this.spec.plugin.name, end.kind, end.detail));
    this.settle(false);
  }

  /** The worker is done with this job: stop the clock, close the port, and give a live worker back. */
  private settle(workerIsFree: boolean): void {
    if (this.settled) return;
    this.settled = true;
    this.stopped = true;
    this.wakePump?.();
    this.watchdog.stop();
    this.offEnd();
    this.port.close();
    if (workerIsFree) this.pool.release(this.worker);
    this.onSettled?.();
  }

  private send(message: ToJob, transfer?: ArrayBuffer[]): void {
    if (!this.settled) this.port.postMessage(message, transfer);
  }
}
