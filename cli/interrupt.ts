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

/** The running job's Ctrl-C handler, if a job is running. */
let jobHandler: (() => void) | undefined;

/** Installed once at start: Ctrl-C outside a job exits 130 at once; during one, the job's handler runs. */
export function installCtrlC(): void {
  process.on("SIGINT", () => {
    if (jobHandler) jobHandler();
    else process.exit(ExitCode.interrupted);
  });
}

/**
 * Installs the handler: on Ctrl-C, `cancel()` asks the server to cancel the
 * job and says whether there was one yet; if so, the server gets up to
 * `graceMs` to end the stream (so the job is recorded `cancelled` before the
 * call goes), otherwise the call is aborted at once.
 */
export function cancelOnCtrlC(cancel: () => Promise<boolean>, graceMs = 3000): Interruption {
  const abort = new AbortController();
  let interrupted = false;
  const handler = () => {
    if (interrupted) process.exit(ExitCode.interrupted);
    interrupted = true;
    process.stderr.write("\ncancelling… (Ctrl-C again to quit at once)\n");
    const stop = () => abort.abort(new CliError("interrupted", ExitCode.interrupted));
    void cancel().then(
      (hadJob) => (hadJob ? setTimeout(stop, graceMs).unref() : stop()),
      () => stop(),
    );
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
