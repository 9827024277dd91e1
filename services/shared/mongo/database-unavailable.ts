/**
 * Whether a MongoDB driver error means the database cannot be reached (down,
 * unreachable, connection pool cleared): retrying later may work, so each
 * service maps it to UNAVAILABLE rather than INTERNAL.
 */
import { MongoError, MongoNetworkError, MongoNotConnectedError, MongoServerSelectionError, MongoTopologyClosedError } from "mongodb";

export function isDatabaseUnavailable(error: unknown): boolean {
  return (
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError ||
    (error instanceof MongoError && /connection|pool|topology/i.test(error.name))
  );
}
