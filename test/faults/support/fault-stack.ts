/**
 * A whole deployment of its own for fault tests: a FerretDB on a free port
 * and a fresh folder, and the records and transfer services as processes of
 * their own (as `npm start` runs them, development auth), so a test can kill
 * any of them with SIGKILL — the database mid-write, the records service
 * mid-export — without touching the shared test database or other files.
 *
 * Everything started here is stopped by {@link FaultStack.close}, pass or
 * fail, and killed if the test process itself exits first.
 */
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { MongoClient, type Db } from "mongodb";
import { freePort, startFerretDb, type RunningFerretDb } from "../../../scripts/lib/ferretdb.js";
import { AUDIENCES, ensureDevKeys, signDevToken, type DevKeys } from "../../../services/shared/auth/index.js";
import { recordPrivateKey, recordSecret } from "../../support/run-secrets.js";
import { startServiceProcess, type ServiceProcess } from "../../telemetry/service-process.js";

export const RECORDS_DATABASE = "fault_records";
export const TRANSFER_DATABASE = "fault_transfer";

export interface FaultDatabase {
  readonly uri: string;
  readonly port: number;
  /** The running server (undefined while killed). */
  readonly server: RunningFerretDb | undefined;
  /** SIGKILL, as a crash: resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and folder, with the data it had. */
  restart(): Promise<void>;
}

export interface FaultStack {
  database: FaultDatabase;
  records: ServiceProcess;
  transfer: ServiceProcess;
  /** Bearer tokens (admin, pii) for each service. */
  tokens: { records: string; transfer: string };
  /** The records service's database, through a client of the test's own (short server selection, so a dead database fails fast). */
  recordsDb: Db;
  transferDb: Db;
  /** SIGKILLs the records service and starts it again on the same port. */
  restartRecords(options?: { killed?: boolean }): Promise<void>;
  /** Kills the records service (SIGKILL) without starting it again. */
  killRecords(): Promise<void>;
  close(): Promise<void>;
}

/** Kills a process with SIGKILL and waits until it is gone. */
export async function killProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}

export interface FaultStackOptions {
  /** More environment for both services (e.g. LOG_LEVEL). */
  env?: Record<string, string>;
}

export async function startFaultStack(options: FaultStackOptions = {}): Promise<FaultStack> {
  const dir = mkdtempSync(join(tmpdir(), "dx-faults-"));
  const dataDir = join(dir, "db");
  const port = await freePort();
  let server: RunningFerretDb | undefined;
  const started: ServiceProcess[] = [];
  const killAll = () => {
    for (const service of started) service.child.kill("SIGKILL");
  };
  process.once("exit", killAll);
  let watcher: MongoClient | undefined;
  try {
    server = await startFerretDb({ dataDir, port });
    const keys: DevKeys = ensureDevKeys(join(dir, "keys"));
    recordPrivateKey(keys.privateKey);
    const env = {
      MONGODB_URI: server.uri,
      DX_AUTH_DEV: "1",
      DX_DEV_KEYS_DIR: keys.dir,
      LOG_LEVEL: "info",
      OTEL_EXPORTER_OTLP_ENDPOINT: "",
      RECORDS_DATABASE,
      TRANSFER_DATABASE,
      ...options.env,
    };
    const startRecords = (recordsPort?: number) => startServiceProcess({ entry: "services/records/server.ts", portVariable: "RECORDS_PORT", env, port: recordsPort });
    let records = await startRecords();
    started.push(records);
    const transfer = await startServiceProcess({ entry: "services/transfer/server.ts", portVariable: "TRANSFER_PORT", env: { ...env, TRANSFER_RECORDS_URL: records.url } });
    started.push(transfer);
    const mint = async (audience: string) => recordSecret("token", await signDevToken({ roles: ["admin", "pii"], subject: "fault-tester", ttlSeconds: 3600, audience, keys }));
    const tokens = { records: await mint(AUDIENCES.records), transfer: await mint(AUDIENCES.transfer) };
    watcher = new MongoClient(server.uri, { serverSelectionTimeoutMS: 2_000 });
    const client = watcher;
    const database: FaultDatabase = {
      uri: server.uri,
      port,
      get server() {
        return server;
      },
      async kill() {
        await server?.kill("SIGKILL");
        server = undefined;
      },
      async restart() {
        if (server) throw new Error("the database is running");
        server = await startFerretDb({ dataDir, port });
      },
    };
    const stack: FaultStack = {
      database,
      get records() {
        return records;
      },
      transfer,
      tokens,
      recordsDb: client.db(RECORDS_DATABASE),
      transferDb: client.db(TRANSFER_DATABASE),
      async killRecords() {
        await killProcess(records.child);
      },
      async restartRecords() {
        await killProcess(records.child);
        records = await startRecords(records.port);
        started.push(records);
      },
      async close() {
        process.off("exit", killAll);
        await Promise.all(started.map((s) => s.stop()));
        await client.close().catch(() => undefined);
        await server?.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return stack;
  } catch (error) {
    process.off("exit", killAll);
    killAll();
    await watcher?.close().catch(() => undefined);
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Polls `check` until it returns a value other than undefined, or fails
 * naming `what` after `ms`: tests wait for conditions, never for time.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
