/**
 * The records service as the bench runs it: the service's own builder
 * (`buildRecordsServer`) and config, in a process of its own, minus the
 * start-up `ensureIndexes` (the bench creates the indexes once, when it
 * seeds).
 *
 * Why: the bench starts a fresh records process per measured run so that its
 * peak RSS covers that run only, and FerretDB 1.24 panics ("slice bounds out
 * of range [:3:2]", connection closed) when one createIndexes command names
 * several indexes that all exist already, which is what the service's main
 * sends on a second start against the same database.
 */
import { MongoClient } from "mongodb";
import { buildRecordsServer } from "../../services/records/server.js";
import { loadRecordsConfig } from "../../services/records/config.js";

const config = loadRecordsConfig();
const client = new MongoClient(config.MONGODB_URI, { appName: "dataexchange-records-bench" });
await client.connect();
const running = await buildRecordsServer({ db: client.db(config.RECORDS_DATABASE), host: config.RECORDS_HOST, port: config.RECORDS_PORT, maxMessageBytes: config.RECORDS_MAX_MESSAGE_BYTES });
process.stdout.write(`records service listening on ${running.url} (database ${config.RECORDS_DATABASE})\n`);
const stop = async () => {
  await running.close();
  await client.close();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
