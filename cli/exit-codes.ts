/**
 * The exit codes `dx` promises to scripts (documented in `dx --help` and the
 * README). One number per outcome a script must tell apart: whether anything
 * was written, and whether trying again later could help.
 */
export const ExitCode = {
  /** Done: everything asked for was done. */
  done: 0,
  /** A lenient import wrote the valid rows and rejected some. */
  rowsRejected: 1,
  /** Nothing written: a strict import aborted, the request was refused, or the command line was wrong. */
  nothingWritten: 2,
  /** The server could not be reached, or refused who we are (no token, expired, unknown). */
  cannotConnect: 3,
  /** Interrupted with Ctrl-C (128 + SIGINT); the job was cancelled on the server. */
  interrupted: 130,
  /** The reader of stdout closed it early (`| head`; 128 + SIGPIPE, as the shell's own tools); the job was cancelled. */
  readerGone: 141,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the CLI reports as one line and exits with `exitCode`; never a stack trace. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
  ) {
    super(message);
  }
}

/** The help text's section on exit codes (also in the README). */
export const EXIT_CODES_HELP = `Exit codes:
  0    done
  1    some rows were rejected (lenient import: the valid rows were written)
  2    nothing written: strict import aborted, request refused, or bad command line
       (also an import that failed or was cancelled elsewhere: "dx job <id>" says what it wrote)
  3    cannot connect to the server, or not signed in / token expired or refused
  130  interrupted with Ctrl-C (the job is cancelled on the server)
  141  the reader of stdout closed it early (| head): the export was cancelled, quietly`;
