/**
 * The folder where a test run keeps everything logged while it ran, for the
 * secrets check at its end (log-check.ts, run by global-setup.ts).
 *
 * - `services.log`: every line of every pino logger, in-process or in a
 *   spawned service (the run sets DX_LOG_FILE, the services' own "also log
 *   to this file" setting: services/shared/logging/log-file.ts);
 * - `spawned-<entry path>-<pid>.<stdout|stderr>`: the raw output of services the
 *   tests spawn, JSON or not (a stack trace, a stray console.log);
 * - `console.log`: what the tests and in-process services wrote to the
 *   console (vitest's onConsoleLog);
 * - `secrets.jsonl`: the secrets the run used (run-secrets.ts), which the
 *   check looks for in all of the above.
 *
 * Every writer appends whole lines with one synchronous write, so the
 * workers' and children's lines never interleave.
 */
import { appendFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// The module itself, not the logging index: vitest.config.ts loads this file, and needs no logger.
import { LOG_FILE_VARIABLE } from "../../services/shared/logging/log-file.js";

/** The variable naming the run's capture folder (set by global-setup.ts, inherited by workers and children). */
export const TEST_LOG_DIR_VARIABLE = "DX_TEST_LOG_DIR";
export const SERVICES_LOG = "services.log";
export const CONSOLE_LOG = "console.log";
export const SECRETS_FILE = "secrets.jsonl";

/** The run's capture folder, when there is one. */
export function testLogDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[TEST_LOG_DIR_VARIABLE] || undefined;
}

/** Creates a fresh capture folder and the variables that point every logger and helper at it. */
export function createRunLogCapture(): { dir: string; env: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), "dx-test-logs-"));
  return { dir, env: { [TEST_LOG_DIR_VARIABLE]: dir, [LOG_FILE_VARIABLE]: join(dir, SERVICES_LOG) } };
}

/**
 * A function that keeps one output stream of a spawned process in the
 * capture folder (a no-op outside a captured run).
 */
export function captureProcessOutput(entry: string, pid: number | undefined, stream: "stdout" | "stderr"): (chunk: string) => void {
  const dir = testLogDir();
  if (!dir) return () => undefined;
  const name = entry.replace(/\.[^.]+$/, "").replace(/[^A-Za-z0-9]+/g, "-");
  const file = join(dir, `spawned-${name}-${pid ?? "unknown"}.${stream}`);
  return (chunk) => appendFileSync(file, chunk, { mode: 0o600 });
}

/** Keeps one console message of the run (vitest `onConsoleLog`); a no-op outside a captured run. */
export function captureConsole(text: string, type: "stdout" | "stderr"): void {
  const dir = testLogDir();
  if (!dir) return;
  appendFileSync(join(dir, CONSOLE_LOG), `[${type}] ${text.endsWith("\n") ? text : `${text}\n`}`, { mode: 0o600 });
}
