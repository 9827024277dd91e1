/**
 * What a MongoDB driver error says about the database, so that both services
 * tell "the database cannot be reached right now" (UNAVAILABLE: retrying later
 * may work) from a refusal of the request or a bug.
 *
 * Two traps this module exists for:
 * - An unordered `bulkWrite` that loses its connection throws a
 *   `MongoBulkWriteError` with an empty `writeErrors` list: the driver wraps
 *   its own network error in it (`errorResponse`). Code that reads only the
 *   write errors sees no failed record and reports the whole batch written —
 *   which is how a database killed mid-import lost acknowledged rows.
 *   {@link interruptionOf} unwraps it.
 * - A server that is stepping down or shutting down answers with an error
 *   code rather than a dropped connection; it is just as transient.
 */
import { MongoBulkWriteError, MongoError, MongoNetworkError, MongoNotConnectedError, MongoServerSelectionError, MongoTopologyClosedError } from "mongodb";

/**
 * Server error codes that mean "this server cannot serve you right now", as
 * the driver's retryable-reads and retryable-writes specifications list them:
 * HostUnreachable, HostNotFound, NetworkTimeout, ShutdownInProgress,
 * PrimarySteppedDown, SocketException, NotWritablePrimary,
 * InterruptedAtShutdown, InterruptedDueToReplStateChange,
 * NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary.
 */
const TRANSIENT_SERVER_CODES = new Set([6, 7, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436]);

/**
 * The driver's own error inside a bulk write that never got the server's
 * answer (the connection dropped, the server could not be selected): the
 * batch's outcome is unknown — some, all or none of it may be stored.
 * Undefined for a bulk write the server answered (its write errors are real).
 */
export function interruptionOf(error: unknown): MongoError | undefined {
  if (error instanceof MongoBulkWriteError && error.errorResponse instanceof MongoError) return error.errorResponse;
  return undefined;
}

/**
 * Whether the error means the database could not be reached or could not
 * serve the request for now (down, unreachable, pool cleared, stepping down,
 * a bulk write cut off): each service maps it to UNAVAILABLE, never INTERNAL
 * and never a success.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const cause = interruptionOf(error) ?? error;
  return (
    cause instanceof MongoNetworkError ||
    cause instanceof MongoServerSelectionError ||
    cause instanceof MongoNotConnectedError ||
    cause instanceof MongoTopologyClosedError ||
    (cause instanceof MongoError && (/connection|pool|topology/i.test(cause.name) || isTransientServerCode(cause)))
  );
}

/**
 * Whether repeating the same operation a moment later may succeed: the
 * connection was reset, the pool cleared, the primary stepped down. Not a
 * server-selection timeout: that error already waited for the database
 * (`serverSelectionTimeoutMS`), so retrying it would only stretch an outage
 * that clients should hear about.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  const cause = interruptionOf(error) ?? error;
  if (cause instanceof MongoServerSelectionError) return false;
  return cause instanceof MongoNetworkError || (cause instanceof MongoError && (/pool/i.test(cause.name) || isTransientServerCode(cause)));
}

function isTransientServerCode(error: MongoError): boolean {
  return typeof error.code === "number" && TRANSIENT_SERVER_CODES.has(error.code);
}
