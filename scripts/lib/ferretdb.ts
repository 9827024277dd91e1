/**
 * Starts and stops a FerretDB server for development, tests and benchmarks.
 *
 * FerretDB speaks the MongoDB wire protocol over a real TCP connection, so the
 * services are tested against a real server, never a mock. The embedded SQLite
 * backend needs nothing else; the PostgreSQL backend uses the machine's server.
 * The process is always stopped: `stop()` sends SIGTERM then SIGKILL, and an
 * exit hook kills it if the owning process dies first.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, openSync, closeSync, readFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { join } from "node:path";
import { ferretdbBinary } from "../setup.mjs";

export type FerretDbBackend = "sqlite" | "postgresql";

export interface FerretDbOptions {
  /** Directory for SQLite files, FerretDB's state and its log. */
  dataDir: string;
  backend?: FerretDbBackend;
  /** For the PostgreSQL backend: a URL of an existing database. */
  postgresqlUrl?: string;
  /** Listen port; 0 or absent picks a free one. */
  port?: number;
  /** FerretDB's log level (debug, info, warn, error). */
  logLevel?: string;
}

export interface RunningFerretDb {
  uri: string;
  port: number;
  pid: number;
  logFile: string;
  /** FerretDB's debug handler (`/debug/metrics`: Prometheus metrics, cursors among them). */
  debugUrl: string;
  stop(): Promise<void>;
  /** Sends `signal` (default SIGKILL, as a crash would) and resolves once the process is gone: for fault tests. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** The kernel's ephemeral port range, from which it picks the local port of an outgoing connection (Linux's default when it cannot be read). */
export function ephemeralPortRange(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low! <= high!) return { low: low!, high: high! };
  } catch {
    // not Linux: the default below
  }
  return { low: 32768, high: 60999 };
}

/** The ports {@link freePort} picks from: below the ephemeral range (10000 up), or above it when it starts too low. */
function portsOutsideEphemeralRange(): { low: number; high: number } {
  const ephemeral = ephemeralPortRange();
  if (ephemeral.low - 1 - 10_000 >= 1000) return { low: 10_000, high: ephemeral.low - 1 };
  if (65_535 - ephemeral.high >= 1000) return { low: ephemeral.high + 1, high: 65_535 };
  throw new Error(`the ephemeral port range ${ephemeral.low}-${ephemeral.high} leaves no room for test servers' ports`);
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A free TCP port on 127.0.0.1, outside the kernel's ephemeral range. Why
 * not port 0's pick: that is an ephemeral port, and a server restarted on it
 * (FerretDB, a service in the fault tests) leaves it unbound for a moment
 * while clients retry. A connect from 127.0.0.1 to an unbound port can be
 * given that same port as its local one, and then connects to itself (TCP's
 * simultaneous open): the readiness poll takes it for the server, or a
 * driver's socket holds the port the server is about to bind. A port outside
 * the range is never an outgoing connection's own. Measured here (3 December
 * 2026): connecting again and again to an unbound port in the range, 40000,
 * connected to itself at the 49,005th attempt, 2.4 s in; the kernel steps
 * through the range, so every such port is met in time.
 */
export async function freePort(): Promise<number> {
  const { low, high } = portsOutsideEphemeralRange();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port found between ${low} and ${high} in 200 tries`);
}

/** Whether a server accepts connections on the port; a socket that connected to itself (see {@link freePort}) is not one. */
function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      const self = socket.localPort === socket.remotePort && socket.localAddress === socket.remoteAddress;
      socket.destroy();
      resolve(!self);
    });
    socket.once("error", () => resolve(false));
  });
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Stops FerretDB if its owner dies without running exit hooks (SIGKILL, a
 * killed test runner): a detached shell polls the owner's pid and sends
 * SIGTERM to FerretDB once the owner is gone, so no server outlives its run.
 */
function startWatchdog(ownerPid: number, serverPid: number | undefined): void {
  if (!serverPid) return;
  const script = `while kill -0 ${ownerPid} 2>/dev/null && kill -0 ${serverPid} 2>/dev/null; do sleep 1; done; kill ${serverPid} 2>/dev/null; sleep 5; kill -9 ${serverPid} 2>/dev/null; exit 0`;
  const watchdog = spawn("sh", ["-c", script], { detached: true, stdio: "ignore" });
  watchdog.unref();
}

export async function startFerretDb(options: FerretDbOptions): Promise<RunningFerretDb> {
  const backend = options.backend ?? "sqlite";
  mkdirSync(options.dataDir, { recursive: true });
  const port = options.port || (await freePort());
  const debugPort = await freePort();
  const logFile = join(options.dataDir, "ferretdb.log");
  const args = [
    `--listen-addr=127.0.0.1:${port}`,
    `--debug-addr=127.0.0.1:${debugPort}`,
    "--telemetry=disable",
    `--state-dir=${options.dataDir}`,
    `--log-level=${options.logLevel ?? "warn"}`,
    `--handler=${backend}`,
  ];
  if (backend === "sqlite") args.push(`--sqlite-url=file:${options.dataDir}/`);
  else {
    if (!options.postgresqlUrl) throw new Error("FerretDB's postgresql backend needs postgresqlUrl");
    args.push(`--postgresql-url=${options.postgresqlUrl}`);
  }
  const out = openSync(logFile, "a");
  const child = spawn(ferretdbBinary(), args, { stdio: ["ignore", out, out] });
  closeSync(out);
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  startWatchdog(process.pid, child.pid);

  const deadline = Date.now() + 30_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null) {
      process.off("exit", killOnExit);
      throw new Error(`FerretDB exited with code ${child.exitCode} before listening:\n${readFileSync(logFile, "utf8").slice(-2000)}`);
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      process.off("exit", killOnExit);
      throw new Error(`FerretDB did not listen on port ${port} within 30 s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    port,
    pid: child.pid ?? -1,
    logFile,
    debugUrl: `http://127.0.0.1:${debugPort}`,
    async kill(signal = "SIGKILL") {
      process.off("exit", killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await waitForExit(child, 10_000);
    },
    async stop() {
      process.off("exit", killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      if (!(await waitForExit(child, 5_000))) {
        child.kill("SIGKILL");
        await waitForExit(child, 5_000);
      }
    },
  };
}
