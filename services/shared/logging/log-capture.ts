/**
 * A second copy of every log line, appended to one file, when
 * `DX_LOG_CAPTURE_FILE` names it.
 *
 * Why: the promise "no token, password or file content is ever logged" is
 * checked by scanning what a whole test run logged for the secrets that run
 * used (test/support/log-check). A run's lines come from many processes —
 * vitest workers with services built in-process, services spawned as child
 * processes — and their stdout is scattered or swallowed, so each logger
 * also writes here, wherever its normal destination is.
 *
 * Each line is one synchronous `write` on a file opened for appending: the
 * kernel appends it whole, so lines of concurrent processes never interleave,
 * and nothing is lost when a process exits right after logging. Production
 * leaves the variable unset, and then none of this runs.
 */
import { openSync, writeSync } from "node:fs";
import { resolve } from "node:path";
import type { DestinationStream } from "pino";

/** The variable naming the capture file. */
export const LOG_CAPTURE_VARIABLE = "DX_LOG_CAPTURE_FILE";

/** One descriptor per file per process, shared by every logger that process builds. */
const opened = new Map<string, number>();

/**
 * The capture destination `env` asks for, or undefined when it asks for none.
 * Throws when the file cannot be opened: a run that asked for a capture and
 * silently got none would pass its secrets check vacuously.
 */
export function logCaptureDestination(env: NodeJS.ProcessEnv = process.env): DestinationStream | undefined {
  const file = env[LOG_CAPTURE_VARIABLE]?.trim();
  if (!file) return undefined;
  const path = resolve(file);
  let fd = opened.get(path);
  if (fd === undefined) {
    fd = openSync(path, "a", 0o600);
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
        process.stderr.write(`log capture to ${path} stopped: ${(error as Error).message}\n`);
      }
    },
  };
}
