/**
 * `npm start`: FerretDB (embedded SQLite, data in ./data) unless MONGODB_URI
 * names another server, the development OpenID Connect provider unless the
 * environment names another (scripts/lib/dev-stack.ts), then the records
 * service, then the transfer service (which calls the records service), each
 * as its own process, until Ctrl-C, which stops everything cleanly (services
 * first, then the provider, then the database).
 *
 * `npm start` runs this script compiled (dist/scripts/start.js, built by
 * scripts/setup.mjs with the services), and it then starts the compiled
 * services with plain `node`: no tsx loader thread in any process. Run from
 * its source (`npx tsx scripts/start.ts`) it starts the services from their
 * TypeScript sources under tsx instead, for working on them without a build.
 */
import { serviceNodeFlags } from "./lib/service-node-flags.js";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { startFerretDb, type RunningFerretDb } from "./lib/ferretdb.js";
import { envPort, stackAuth, stackPorts } from "./lib/dev-stack.js";
import { DEV_ACCOUNTS } from "../services/identity/dev-accounts.js";
import { repositoryRoot } from "../services/shared/process/repository-root.js";

const root = repositoryRoot();
/** Whether this script, and so every service it starts, runs from the compiled build. */
const compiled = !import.meta.url.endsWith(".ts");

interface ServiceProcess {
  name: string;
  child: ChildProcess;
}

function log(message: string): void {
  process.stdout.write(`[start] ${message}\n`);
}

async function waitForPort(host: string, port: number, child: ChildProcess, name: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} during start`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`${name} did not listen on ${host}:${port} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `entry` (a TypeScript source, relative to the root) as this run starts it: its compiled module, or the source under tsx. */
function serviceArgs(entry: string): string[] {
  if (compiled) return [join(root, "dist", entry.replace(/\.ts$/, ".js"))];
  return ["--import", "tsx", join(root, entry)];
}

function startService(name: string, entry: string, env: NodeJS.ProcessEnv): ServiceProcess {
  // The telemetry preload must run before the service imports mongodb and grpc-js, so their
  // instrumentations can wrap them; it does nothing unless tracing is configured.
  const preload = join(root, "services", "shared", "telemetry", "register.mjs");
  const child = spawn(process.execPath, [...serviceNodeFlags(env), "--import", preload, ...serviceArgs(entry)], { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] });
  return { name, child };
}

function stopProcess(service: ServiceProcess): Promise<void> {
  const { child } = service;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

async function main(): Promise<void> {
  const services: ServiceProcess[] = [];
  let database: RunningFerretDb | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log("stopping");
    for (const service of [...services].reverse()) await stopProcess(service);
    await database?.stop();
    log("stopped");
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));

  try {
    let mongoUri = process.env.MONGODB_URI;
    if (!mongoUri) {
      const dataDir = process.env.DX_DATA_DIR ?? join(root, "data", "ferretdb");
      mkdirSync(dataDir, { recursive: true });
      database = await startFerretDb({ dataDir, port: envPort(process.env, "DX_FERRETDB_PORT", 27017) });
      mongoUri = database.uri;
      log(`FerretDB (SQLite in ${dataDir}) on ${mongoUri}`);
    }
    const ports = stackPorts();
    const auth = stackAuth(process.env, ports);
    const env = { ...process.env, MONGODB_URI: mongoUri, ...auth.servicesEnv };
    log(auth.description);
    if (auth.identity) {
      const identity = startService("identity provider", "services/identity/server.ts", { ...process.env, ...auth.identity.env });
      services.push(identity);
      identity.child.once("exit", (code) => {
        if (!stopping) {
          log(`identity provider exited unexpectedly (code ${code})`);
          void stop(1);
        }
      });
      await waitForPort(process.env.IDENTITY_HOST ?? "127.0.0.1", auth.identity.port, identity.child, "identity provider");
    }
    const recordsPort = envPort(process.env, "RECORDS_PORT", 50051);
    const records = startService("records service", "services/records/server.ts", { ...env, RECORDS_PORT: String(recordsPort) });
    services.push(records);
    records.child.once("exit", (code) => {
      if (!stopping) {
        log(`records service exited unexpectedly (code ${code})`);
        void stop(1);
      }
    });
    const recordsHost = process.env.RECORDS_HOST ?? "127.0.0.1";
    await waitForPort(recordsHost, recordsPort, records.child, "records service");

    // The transfer service reads config/transfer.json (or DX_TRANSFER_CONFIG);
    // only the port and the records URL are set here, unless already given.
    const transferPort = ports.transfer;
    const transfer = startService("transfer service", "services/transfer/server.ts", {
      ...env,
      ...auth.transferEnv,
      TRANSFER_PORT: String(transferPort),
      TRANSFER_RECORDS_URL: process.env.TRANSFER_RECORDS_URL ?? `http://${recordsHost}:${recordsPort}`,
    });
    services.push(transfer);
    transfer.child.once("exit", (code) => {
      if (!stopping) {
        log(`transfer service exited unexpectedly (code ${code})`);
        void stop(1);
      }
    });
    await waitForPort(process.env.TRANSFER_HOST ?? "127.0.0.1", transferPort, transfer.child, "transfer service");
    if (auth.identity) {
      log(`sign in at ${auth.identity.issuer} as ${DEV_ACCOUNTS.map((a) => a.username).join(", ")} (development accounts; passwords in README.md, section Sign-in)`);
    }
    log(`web UI: http://127.0.0.1:${transferPort}/${auth.identity ? " (sign in with a development account)" : ""}`);
    log(
      `ready: records service on http://127.0.0.1:${recordsPort} (gRPC, Connect), transfer service on http://127.0.0.1:${transferPort} ` +
        `(gRPC, Connect, GET /export/{format}, POST /import)${auth.identity ? `, identity provider on ${auth.identity.issuer}` : ""}. Ctrl-C stops everything.`,
    );
  } catch (error) {
    log(`failed: ${error instanceof Error ? error.message : String(error)}`);
    await stop(1);
  }
}

void main();
