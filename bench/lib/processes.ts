/**
 * Runs every measured party as its own OS process, so each one's peak RSS is
 * its own and no two share a heap or an event loop: services are spawned
 * fresh for each measured run (their peak then covers exactly that run), and
 * each workload (our client, a baseline) is a worker that reports its own
 * numbers as one JSON line on stdout.
 *
 * Services run as `npm start` runs them: their compiled JavaScript under
 * dist/ (built by the setup step that `npm run bench` runs first) with plain
 * node; with `--from-source` (ServiceSpec.fromSource) from their TypeScript
 * under tsx, as before the build existed. Workloads (clients, baselines) run
 * under tsx either way: they are not what is measured for memory.
 *
 * Peak RSS is the kernel's VmHWM from /proc/<pid>/status, read just before a
 * service is stopped; workers read their own (`process.resourceUsage().maxRSS`
 * is the same number).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { findListeningLine } from "../../services/shared/process/index.js";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Node flags that load the event-loop probe into a service (bench/lib/event-loop-probe.mjs), which prints its figures at exit. */
export const EVENT_LOOP_PROBE_FLAGS: readonly string[] = ["--import", resolve(REPO, "bench/lib/event-loop-probe.mjs")];

/** `node --import tsx <entry>`: one process per party (npx/tsx wrappers would add a parent process). */
export function nodeArgs(entry: string, extra: string[] = []): string[] {
  return [...extra, "--import", "tsx", resolve(REPO, entry)];
}

/** How a service process runs `entry` (a TypeScript source under the repository): its compiled module, or the source under tsx. */
export function serviceArgs(entry: string, fromSource: boolean, extra: string[] = []): string[] {
  return fromSource ? nodeArgs(entry, extra) : [...extra, resolve(REPO, "dist", entry.replace(/\.ts$/, ".js"))];
}

/** Peak resident set size of a live process, in MB (VmHWM). */
export function peakRssMb(pid: number): number | undefined {
  return statusMb(pid, "VmHWM");
}

/**
 * CPU time a live process has used so far (user + system, all its threads),
 * in milliseconds, from /proc/<pid>/stat (fields 14 and 15, in clock ticks of
 * 10 ms). Unlike wall time it does not move with what else the shared cores
 * are doing, so it says what a run cost our processes themselves.
 */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** Resident set size of a live process now, in MB (VmRSS). */
export function rssMb(pid: number): number | undefined {
  return statusMb(pid, "VmRSS");
}

function statusMb(pid: number, field: "VmHWM" | "VmRSS"): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface Service {
  name: string;
  pid: number;
  url: string;
  /** Milliseconds from spawning the process to its listening line. */
  startMs: number;
  /** The node flags it was started with. */
  nodeFlags: string[];
  /** Lines the service printed (the tail), for error reports. */
  output(): string;
  peakRssMb(): number | undefined;
  /** CPU milliseconds used since it printed its listening line (start-up not included). */
  workCpuMs(): number | undefined;
  stop(): Promise<void>;
}

export interface ServiceSpec {
  name: string;
  entry: string;
  env: Record<string, string>;
  /**
   * Finds the URL in a plain-text line of the service's output once it is
   * listening (group 1); a JSON line with `lifecycle: "listening"` is
   * recognised without it.
   */
  ready: RegExp;
  nodeFlags?: string[];
  timeoutMs?: number;
  /** Run the TypeScript source under tsx instead of the compiled module (bench option `--from-source`). */
  fromSource?: boolean;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolveExit) => {
    const timer = setTimeout(() => resolveExit(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolveExit(true);
    });
  });
}

/** Starts a service process and resolves once it prints its listening line. */
export async function startService(spec: ServiceSpec): Promise<Service> {
  const spawned = performance.now();
  const child = spawn(process.execPath, serviceArgs(spec.entry, spec.fromSource === true, spec.nodeFlags), {
    cwd: REPO,
    env: { ...process.env, ...spec.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  let log = "";
  const append = (chunk: Buffer) => {
    log = (log + chunk.toString("utf8")).slice(-8000);
  };
  child.stderr!.on("data", append);
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`${spec.name} did not start within ${spec.timeoutMs ?? 30_000} ms:\n${log}`)), spec.timeoutMs ?? 30_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      append(chunk);
      // The services log a JSON `listening` line with the URL in a field; `ready` is for plain-text lines.
      const url = findListeningLine(log)?.url ?? spec.ready.exec(log)?.[1];
      if (url) {
        clearTimeout(timer);
        resolveUrl(url);
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${spec.name} exited (${code ?? signal}) before listening:\n${log}`));
    });
  });
  const startMs = performance.now() - spawned;
  const cpuAtStart = cpuMs(child.pid!) ?? 0;
  return {
    name: spec.name,
    pid: child.pid!,
    url,
    startMs,
    nodeFlags: spec.nodeFlags ?? [],
    output: () => log,
    peakRssMb: () => peakRssMb(child.pid!),
    workCpuMs: () => {
      const now = cpuMs(child.pid!);
      return now === undefined ? undefined : now - cpuAtStart;
    },
    async stop() {
      process.off("exit", killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      if (!(await waitExit(child, 5_000))) {
        child.kill("SIGKILL");
        await waitExit(child, 5_000);
      }
    },
  };
}

/** What every worker prints as its last stdout line. */
export interface WorkerResult {
  /** Records (rows) handled. */
  records: number;
  /** Bytes of file written or read. */
  bytes: number;
  /** Wall time of the measured work, from the first request to the last byte. */
  ms: number;
  /** The worker's own peak RSS. */
  rssMb: number;
  /** CPU milliseconds the worker used for its work (its module loading not included). */
  cpuMs?: number;
  /** Anything else the worker wants recorded (counts by outcome, …). */
  extra?: Record<string, unknown>;
}

/** Runs a worker with its arguments as JSON in BENCH_ARGS and returns its result line. */
export async function runWorker(entry: string, args: unknown, options: { nodeFlags?: string[]; timeoutMs?: number } = {}): Promise<WorkerResult> {
  const child = spawn(process.execPath, nodeArgs(entry, options.nodeFlags), {
    cwd: REPO,
    env: { ...process.env, BENCH_ARGS: JSON.stringify(args) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr!.on("data", (c: Buffer) => (err = (err + c.toString("utf8")).slice(-8000)));
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 3_600_000);
  const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  clearTimeout(timer);
  process.off("exit", killOnExit);
  const last = out.trim().split("\n").pop() ?? "";
  if (code !== 0 || !last.startsWith("{")) throw new Error(`worker ${entry} failed (exit ${code}):\n${err}\n${out.slice(-2000)}`);
  return JSON.parse(last) as WorkerResult;
}
