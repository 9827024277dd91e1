/**
 * Ctrl-C while a job runs: the first one cancels the job on the server (so it
 * ends `cancelled`, not `failed` by a lease sweep minutes later) and lets the
 * command end with exit code 130; a second one exits at once.
 */
import { CliError, ExitCode } from "./exit-codes.js";

export interface Interruption {
  /** Whether Ctrl-C was pressed. */
  readonly interrupted: boolean;
  /** Fired once the cancellation was asked for; the call is then aborted. */
  readonly signal: AbortSignal;
  /** Removes the handler (in `finally`). */
  release(): void;
}

/**
 * Installs the handler: on Ctrl-C, `cancel()` (which asks the server to
 * cancel the job, if it has one yet), then waits up to `graceMs` for the
 * server to end the stream before aborting the call.
 */
let jobHandler: (() => void) | undefined;

/** Installed once at start: Ctrl-C outside a job exits 130 at once; during one, the job's handler runs. */
export function installCtrlC(): void {
  process.on("SIGINT", () => {
    if (jobHandler) jobHandler();
    else process.exit(ExitCode.interrupted);
  });
}

export function cancelOnCtrlC(cancel: () => Promise<void>, graceMs = 3000): Interruption {
  const abort = new AbortController();
  let interrupted = false;
  const handler = () => {
    if (interrupted) process.exit(ExitCode.interrupted);
    interrupted = true;
    process.stderr.write("\ncancelling… (Ctrl-C again to quit at once)\n");
    void cancel()
      .catch(() => undefined)
      .finally(() => setTimeout(() => abort.abort(new CliError("interrupted", ExitCode.interrupted)), graceMs).unref());
  };
  jobHandler = handler;
  return {
    get interrupted() {
      return interrupted;
    },
    signal: abort.signal,
    release: () => {
      if (jobHandler === handler) jobHandler = undefined;
    },
  };
}
