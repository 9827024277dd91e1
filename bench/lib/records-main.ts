/**
 * The records service as the bench runs it: the same builder, config,
 * telemetry start, tracing and request-logging interceptors as
 * services/records/server.ts's main, in a process of its own, minus two
 * things:
 *
 * - the start-up `ensureIndexes` (the bench creates the indexes once, when it
 *   seeds). The bench starts a fresh records process per measured run so its
 *   peak RSS covers that run only, and FerretDB 1.24 panics ("slice bounds
 *   out of range [:3:2]", connection closed) when one createIndexes command
 *   names several indexes that all exist already, which is what the main
 *   sends on a second start against the same database;
 * - bearer-token checks: the transfer service does not forward a token to the
 *   records service yet. A check costs one JWT verification per call, and a
 *   benchmark run makes a handful of calls.
 */
import { MongoClient } from "mongodb";
import { buildRecordsServer } from "../../services/records/server.js";
import { loadRecordsConfig } from "../../services/records/config.js";
import { createLogger, createRequestLoggingInterceptor } from "../../services/shared/logging/index.js";
import { createTracingServerInterceptor, startTelemetry } from "../../services/shared/telemetry/index.js";

const telemetry = startTelemetry({ serviceName: "dataexchange-records" });
const log = createLogger({ service: "records" });
const config = loadRecordsConfig();
const client = new MongoClient(config.MONGODB_URI, { appName: "dataexchange-records-bench" });
await client.connect();
const running = await buildRecordsServer({
  db: client.db(config.RECORDS_DATABASE),
  host: config.RECORDS_HOST,
  port: config.RECORDS_PORT,
  maxMessageBytes: config.RECORDS_MAX_MESSAGE_BYTES,
  interceptors: [createTracingServerInterceptor(), createRequestLoggingInterceptor(log)],
});
process.stdout.write(`records service listening on ${running.url} (database ${config.RECORDS_DATABASE})\n`);
const stop = async () => {
  await running.close();
  await client.close();
  await telemetry.shutdown();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
