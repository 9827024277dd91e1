/**
 * A second copy of every log line, appended to one file, when `DX_LOG_FILE`
 * names it; the lines still go to the logger's own destination (stdout).
 *
 * Why a service offers it: where standard output is not collected (a plain VM,
 * a service manager without a journal) or a log shipper tails files, an
 * operator points the services at a file without a wrapper script; several
 * processes on one host (both services, several instances) may share one
 * file. The test suite uses the same feature to gather the lines of every
 * process it runs, in-process or spawned, for its log secrets check
 * (test/support/log-capture.ts).
 *
 * Each line is one synchronous `write` on a file opened for appending: the
 * kernel appends it whole, so lines of concurrent processes never interleave,
 * and nothing is lost when a process exits right after logging. The file is
 * created readable by its owner only, since lines name callers and records.
 * Unset (the default), none of this runs.
 */
import { openSync, writeSync } from "node:fs";
import { resolve } from "node:path";
import type { DestinationStream } from "pino";

/** The variable naming the log file. */
export const LOG_FILE_VARIABLE = "DX_LOG_FILE";

/** One descriptor per file per process, shared by every logger that process builds. */
const opened = new Map<string, number>();

/**
 * The log file destination `env` asks for, or undefined when it asks for
 * none. Throws when the file cannot be opened, so the service refuses to
 * start: an operator (or a test run's secrets check) that asked for a file
 * and silently got none would find out only when the lines were needed.
 */
export function logFileDestination(env: NodeJS.ProcessEnv = process.env): DestinationStream | undefined {
  const file = env[LOG_FILE_VARIABLE]?.trim();
  if (!file) return undefined;
  const path = resolve(file);
  let fd = opened.get(path);
  if (fd === undefined) {
    try {
      fd = openSync(path, "a", 0o600);
    } catch (error) {
      throw new Error(`cannot open the log file ${path} named by ${LOG_FILE_VARIABLE}: ${(error as Error).message}`, { cause: error });
    }
    opened.set(path, fd);
  }
  const descriptor = fd;
  let failed = false;
  return {
    write(line: string) {
      if (failed) return;
      try {
        writeSync(descriptor, line);
      } catch (error) {
        // A full disk or a removed file must not fail the call being logged; say so once.
        failed = true;
        process.stderr.write(`writing to the log file ${path} stopped: ${(error as Error).message}\n`);
      }
    },
  };
}
