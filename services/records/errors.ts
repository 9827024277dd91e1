/**
 * Errors the records service raises on purpose. The service's error-mapping
 * function turns each into one RPC status; anything else is a bug or an
 * outage and is mapped by its origin (MongoDB, network).
 */
import type { FieldIssue } from "../domain/index.js";

/** The request itself is malformed (unknown field, bad filter, bad key). */
export class InvalidRequestError extends Error {
  override name = "InvalidRequestError";
  constructor(
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
  }
}

/** A single record failed validation (single-record RPCs). */
export class RecordValidationError extends Error {
  override name = "RecordValidationError";
  constructor(
    message: string,
    readonly issues: FieldIssue[],
  ) {
    super(message);
  }
}

export class RecordNotFoundError extends Error {
  override name = "RecordNotFoundError";
}

export class RecordExistsError extends Error {
  override name = "RecordExistsError";
}

/** A reference (a session's user or course) points at nothing. */
export class MissingReferenceError extends Error {
  override name = "MissingReferenceError";
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

/** The operation is not allowed on this entity (changing the append-only log). */
export class OperationNotAllowedError extends Error {
  override name = "OperationNotAllowedError";
}

/**
 * The database could not be reached while a batch was being written, for
 * longer than the retry budget: some of the batch's writes may be stored and
 * none is reported written. Mapped to UNAVAILABLE, so the caller retries.
 */
export class WriteInterruptedError extends Error {
  override name = "WriteInterruptedError";
  constructor(
    /** Writes of the batch not known to be stored. */
    readonly unsettled: number,
    readonly total: number,
    options: { cause: unknown },
  ) {
    super(`the database became unreachable while this batch was being written; ${unsettled} of its ${total} writes may or may not have been stored`, options);
  }
}
