/**
 * One worker thread of the pool, and how it ended. The thread runs
 * worker-main (through the worker-entry bootstrap) with a heap limit of its
 * own, so a plugin that allocates without bound is stopped by V8 inside that
 * thread (ERR_WORKER_OUT_OF_MEMORY) instead of taking the service down.
 */
import { Worker, type TransferListItem } from "node:worker_threads";
import type { FromWorker, ToWorker } from "./protocol.js";

/** How a worker ended, in the words a failed job reports. */
export interface WorkerEnd {
  kind: "timed-out" | "out-of-memory" | "crashed" | "stopped";
  detail: string;
}

export interface FormatWorkerOptions {
  /** Heap (old generation) limit of the thread, in MiB. */
  memoryLimitMb: number;
  /**
   * Added to the thread's nice value once it has loaded its first job's
   * plugin (0: as the service); thread-priority.ts says why and when.
   * Measured in bench/README.md (Format workers at a lower priority).
   */
  niceness?: number;
  /**
   * Registers tsx in the thread even though the worker's own code is
   * compiled JavaScript: it will load plugins the build did not compile
   * (typescript-loader.ts). From the sources the thread always registers it.
   */
  typeScriptPlugins?: boolean;
}

/** worker-main.ts next to this file, or its compiled .js when the service runs from a build. */
const ownExtension = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const ENTRY = new URL("./worker-entry.mjs", import.meta.url);
const MAIN = new URL(`./worker-main${ownExtension}`, import.meta.url);

export class FormatWorker {
  readonly threadId: number;
  /** Resolves when the thread has loaded its code; rejects when it dies first. */
  readonly ready: Promise<void>;
  /** Set once the thread has exited. */
  end: WorkerEnd | undefined;
  /** Jobs this thread has run. */
  jobs = 0;
  private reportedNice: number | undefined;
  private readonly worker: Worker;
  private readonly listeners = new Set<(end: WorkerEnd) => void>();
  private intended: WorkerEnd | undefined;
  private error: unknown;
  private readonly exited: Promise<void>;

  /** The thread's nice value as it reported when it last started a job (undefined until then, or where it cannot tell). */
  get nice(): number | undefined {
    return this.reportedNice;
  }

  /** Called by the job the thread has started: the nice value it runs at now, when it can tell. */
  startedJob(nice: number | undefined): void {
    if (nice !== undefined) this.reportedNice = nice;
  }

  constructor(private readonly options: FormatWorkerOptions) {
    this.worker = new Worker(ENTRY, {
      workerData: { main: MAIN.href, registerTypeScript: ownExtension === ".ts" || options.typeScriptPlugins === true, niceness: options.niceness ?? 0 },
      resourceLimits: { maxOldGenerationSizeMb: options.memoryLimitMb },
    });
    this.threadId = this.worker.threadId;
    this.worker.on("error", (error) => (this.error = error));
    this.exited = new Promise((resolve) => this.worker.once("exit", (code) => resolve(this.onExit(code))));
    this.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (message: FromWorker) => {
        if (message.type !== "ready") return;
        this.worker.off("message", onMessage);
        resolve();
      };
      this.worker.on("message", onMessage);
      this.onEnd((end) => reject(new Error(`the format worker did not start: ${end.detail}`)));
    });
    this.ready.catch(() => undefined);
  }

  post(message: ToWorker, transfer: TransferListItem[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  /** The next message of `type` the thread sends on its own port. */
  receive<T extends FromWorker["type"]>(type: T): Promise<Extract<FromWorker, { type: T }>> {
    return new Promise((resolve, reject) => {
      const offEnd = this.onEnd((end) => reject(new Error(`the format worker ended: ${end.detail}`)));
      const onMessage = (message: FromWorker) => {
        if (message.type !== type) return;
        this.worker.off("message", onMessage);
        offEnd();
        resolve(message as Extract<FromWorker, { type: T }>);
      };
      this.worker.on("message", onMessage);
    });
  }

  /** Calls `listener` once when the thread ends (at once if it has); returns the unsubscribe. */
  onEnd(listener: (end: WorkerEnd) => void): () => void {
    if (this.end) {
      listener(this.end);
      return () => undefined;
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops the thread, whatever it is doing (a plugin in an endless loop too), and says why. */
  async terminate(reason: WorkerEnd): Promise<void> {
    this.intended ??= reason;
    await this.worker.terminate();
    await this.exited;
  }

  /** An idle thread must not keep the process alive; a busy one does, like any job in progress. */
  keepsProcessAlive(yes: boolean): void {
    if (yes) this.worker.ref();
    else this.worker.unref();
  }

  private onExit(code: number): void {
    const error = this.error as (Error & { code?: string }) | undefined;
    if (this.intended) this.end = this.intended;
    else if (error?.code === "ERR_WORKER_OUT_OF_MEMORY") {
      this.end = { kind: "out-of-memory", detail: `its worker reached the heap limit of ${this.options.memoryLimitMb} MiB (formatWorkers.memoryLimitMb) and was stopped` };
    } else if (error) this.end = { kind: "crashed", detail: `${error.name}: ${error.message}` };
    else this.end = { kind: "crashed", detail: `its worker exited with code ${code}` };
    for (const listener of [...this.listeners]) listener(this.end);
    this.listeners.clear();
  }
}
