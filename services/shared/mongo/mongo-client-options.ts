/**
 * How both services connect to MongoDB, so that an outage is answered
 * quickly instead of stalling every caller.
 *
 * The driver's default `serverSelectionTimeoutMS` is 30 s: once a connection
 * has dropped, every operation waits up to 30 s for the server to come back
 * before it fails. Behind an RPC that is a client hanging for half a minute
 * and then getting the same UNAVAILABLE it could have had at once (and an
 * import that stalls silently for the whole outage). Five seconds is long
 * enough for a restarted server or a replica-set stepdown to be waited
 * through, and short enough that a real outage is reported while the caller
 * is still there. The same bound applies to opening a connection (a server
 * that accepts TCP but never answers, as a frozen one does).
 *
 * An option written in `MONGODB_URI` itself (`?serverSelectionTimeoutMS=…`,
 * `?connectTimeoutMS=…`) wins: the URI is where operators tune the driver.
 */
import type { MongoClientOptions } from "mongodb";

export const DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 5_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** The options a service's MongoClient is built with for `uri`. */
export function mongoClientOptions(uri: string, appName: string): MongoClientOptions {
  const options: MongoClientOptions = { appName };
  if (!uriSets(uri, "serverSelectionTimeoutMS")) options.serverSelectionTimeoutMS = DEFAULT_SERVER_SELECTION_TIMEOUT_MS;
  if (!uriSets(uri, "connectTimeoutMS")) options.connectTimeoutMS = DEFAULT_CONNECT_TIMEOUT_MS;
  return options;
}

/** Whether the URI's query names the option (option names are case-insensitive in connection strings). */
function uriSets(uri: string, option: string): boolean {
  const query = uri.includes("?") ? uri.slice(uri.indexOf("?") + 1) : "";
  return query.split("&").some((pair) => pair.split("=")[0]!.toLowerCase() === option.toLowerCase());
}
