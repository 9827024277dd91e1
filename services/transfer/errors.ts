/**
 * Errors the transfer service raises on purpose (the core's own errors live in
 * core/errors.ts). The service's one error-mapping function gives each an RPC
 * status and an HTTP status; anything else is mapped by its origin.
 */

/** The request is malformed: a missing header, an unknown entity, a bad page token. */
export class InvalidTransferRequestError extends Error {
  override name = "InvalidTransferRequestError";
  constructor(
    message: string,
    /** The request field at fault, e.g. `header.entity`. */
    readonly field = "",
  ) {
    super(message);
  }
}

/** No loaded plugin has this name (it may have failed to load: ListFormats says why). */
export class UnknownFormatError extends Error {
  override name = "UnknownFormatError";
  constructor(
    readonly format: string,
    known: readonly string[],
    failure?: string,
  ) {
    super(
      failure
        ? `the ${JSON.stringify(format)} format is not available: its plugin failed to load (${failure})`
        : `unknown format ${JSON.stringify(format)}; available formats: ${known.join(", ") || "none"}`,
    );
  }
}

/** The plugin exists but cannot do this direction (a read-only format asked to export). */
export class UnsupportedFormatOperationError extends Error {
  override name = "UnsupportedFormatOperationError";
  constructor(format: string, operation: "read" | "write") {
    super(`the ${format} format cannot ${operation === "read" ? "be imported (it has no reader)" : "be exported (it has no writer)"}`);
  }
}

export type LimitName = "file size" | "row size" | "column count";

/**
 * A configured limit was exceeded: the job stops, because going on would mean
 * holding or accepting more than the operator allowed. RESOURCE_EXHAUSTED
 * (HTTP 413 for the file size).
 */
export class LimitExceededError extends Error {
  override name = "LimitExceededError";
  constructor(
    readonly limit: LimitName,
    readonly max: number,
    readonly unit: string,
  ) {
    super(`the ${limit} limit of ${max} ${unit} was exceeded; the import was stopped (ask an operator to raise importMaxFileMb / importMaxRowBytes / importMaxColumns if the file is legitimate)`);
  }
}

/** A lenient import stopped by its error budget or change guard (max_errors, max_error_ratio, max_changes): what it wrote before stays written, and is reported. */
export class ImportBudgetExceededError extends Error {
  override name = "ImportBudgetExceededError";
}

export class JobNotFoundError extends Error {
  override name = "JobNotFoundError";
  constructor(readonly jobId: string) {
    super(`no job with id ${JSON.stringify(jobId)}`);
  }
}

/**
 * A running job was ended by another instance of the service while it ran
 * here: its lease had expired (this instance could not renew it in time), so
 * the other instance took it for stopped and failed it. The job stops here;
 * its record keeps the other instance's outcome.
 */
export class JobLeaseLostError extends Error {
  override name = "JobLeaseLostError";
  constructor(readonly jobId: string) {
    super(`job ${jobId} was ended by another instance of the transfer service while it ran here (its lease had expired); it stopped, and its record says why`);
  }
}

/**
 * The job has ended, but its end could not be written to its record (the
 * transfer service's database stayed unreachable through the retries). The
 * client is told so rather than given a summary the record does not hold; the
 * service keeps the job's lease and writes the end when the database is back.
 */
export class JobRecordUnavailableError extends Error {
  override name = "JobRecordUnavailableError";
  constructor(
    readonly jobId: string,
    cause: unknown,
  ) {
    super(
      `job ${jobId} ended, but the transfer service's database is unavailable, so its end is not recorded yet (it will be when the database is back): ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/** The job has no rejected rows kept as rows (an export, or an import from before rows were kept): the errors view still lists them. */
export class FailedRowsNotKeptError extends Error {
  override name = "FailedRowsNotKeptError";
}

/**
 * The job cannot be reverted (RevertImport): it is not an import, was a dry
 * run, is still running, was already reverted, or its before-images expired.
 * The job is fine; its state is not one a revert applies to: FAILED_PRECONDITION.
 */
export class NotRevertibleError extends Error {
  override name = "NotRevertibleError";
}

/** The module is switched off by configuration (`enabled: false`). */
export class TransferDisabledError extends Error {
  override name = "TransferDisabledError";
  constructor() {
    super("the data transfer module is disabled by configuration (enabled: false); ask an operator to enable it");
  }
}
