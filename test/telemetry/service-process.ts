/**
 * Starts a service (`services/<name>/server.ts`) in a process of its own, the
 * way production runs it — `node --import tsx --import
 * ./services/shared/telemetry/register.mjs …` — so the trace tests cross a real
 * process boundary and the MongoDB instrumentation loads through the ESM
 * preload exactly as it does in production. With `compiled`, the service's
 * compiled module under dist/ runs instead, with plain node, as `npm start`
 * runs it.
 *
 * The process is ready when it logs its JSON `listening` line. Everything it
 * writes (stdout and stderr, JSON or not) is also kept in the run's log
 * capture folder, so the secrets check at the end of the run reads it too.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { freePort } from "../../scripts/lib/ferretdb.js";
import { findListeningLine } from "../../services/shared/process/index.js";
import { captureProcessOutput } from "../support/log-capture.js";

export const repositoryRoot = fileURLToPath(new URL("../../", import.meta.url));

export interface ServiceProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** Everything the process wrote so far (stdout and stderr together). */
  output(): string;
  /**
   * SIGTERM, then SIGKILL after 30 s (Kubernetes' default grace period);
   * resolves when the process has exited. A stop the kill ended shows as
   * `child.exitCode === null`. 5 s was once too short for one of the services
   * on a CI machine running two test lanes on two cores.
   */
  stop(): Promise<void>;
}

export interface StartServiceOptions {
  /** Entry relative to the repository, e.g. "services/records/server.ts". */
  entry: string;
  /** Variable naming the port, e.g. RECORDS_PORT. */
  portVariable: string;
  env: NodeJS.ProcessEnv;
  /**
   * How long the service may take to say it listens; default 60 s. A service run from its TypeScript
   * (tsx compiles its imports at start) took over 30 s once on a CI run whose two lanes shared the
   * machine's 2 cores with other work (3 December 2026): a wait, not a failure of the service.
   */
  timeoutMs?: number;
  /** Listen port; default a free one (a restarted service takes its old port, so its callers find it again). */
  port?: number;
  /** Run dist/<entry>.js (the compiled build, scripts/build-services.mjs) with plain node instead of the source under tsx. */
  compiled?: boolean;
}

export async function startServiceProcess(options: StartServiceOptions): Promise<ServiceProcess> {
  const port = options.port ?? (await freePort());
  const preload = ["--import", "./services/shared/telemetry/register.mjs"];
  const args = options.compiled ? [...preload, `./dist/${options.entry.replace(/\.ts$/, ".js")}`] : ["--import", "tsx", ...preload, options.entry];
  const child = spawn(process.execPath, args, {
    cwd: repositoryRoot,
    env: { ...process.env, ...options.env, [options.portVariable]: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  // Kept apart for the readiness check (and the capture): a stderr chunk can land in the middle of a stdout line in `text`.
  let stdout = "";
  let ready = false; // then stdout is no longer kept apart
  const keepStdout = captureProcessOutput(options.entry, child.pid, "stdout");
  const keepStderr = captureProcessOutput(options.entry, child.pid, "stderr");
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    text += chunk;
    if (!ready) stdout += chunk;
    keepStdout(chunk);
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    text += chunk;
    keepStderr(chunk);
  });
  const exited = once(child, "exit");
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (findListeningLine(stdout) === undefined) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${options.entry} exited before it was ready:\n${text}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${options.entry} was not ready in time:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  ready = true;
  let stopped: Promise<void> | undefined;
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => text,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopped;
    },
  };
}
