/**
 * Errors the transfer core raises on purpose, so the transfer service's
 * error-mapping function can give each one RPC status without parsing
 * messages: settings the user must fix (INVALID_ARGUMENT) and a cancelled job
 * (CANCELLED). Problems with the *data* are never thrown: they are reported as
 * row errors and counted, so a bad file never ends a job without a summary.
 */

/** Where a setting is wrong, for the RPC's field violations. */
export interface SettingIssue {
  /** The setting at fault: `fields[2]`, `mapping[0].field`, `pluginOptions.delimiter`, … */
  setting: string;
  reason: string;
}

/**
 * The job's settings are unusable (unknown field, bad plugin options, a
 * mapping onto a read-only field, a date format without tokens). Raised before
 * any byte is read or written. Maps to INVALID_ARGUMENT.
 */
export class TransferSettingsError extends Error {
  override name = "TransferSettingsError";
  constructor(
    message: string,
    readonly issues: SettingIssue[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The job was cancelled through its AbortSignal: reading and writing stopped.
 * Maps to CANCELLED. `cause` is the signal's reason.
 */
export class TransferCancelledError extends Error {
  override name = "TransferCancelledError";
  constructor(options?: { cause?: unknown }) {
    super("the transfer was cancelled", options);
  }
}

/** Throws {@link TransferCancelledError} when the signal has fired. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new TransferCancelledError({ cause: signal.reason });
}

/**
 * What an export holds cannot be written in the chosen format: the writer's
 * `FormatError` (a character the chosen encoding lacks, a text longer than an
 * Excel cell). The same class of error as a file an import cannot read, seen
 * from the other side, so it is named for writing. Maps to INVALID_ARGUMENT:
 * another format or encoding holds the data.
 */
export class UnwritableExportError extends Error {
  override name = "UnwritableExportError";
  constructor(readonly formatError: Error) {
    super(`the file cannot be written: ${formatError.message}`, { cause: formatError });
  }
}
