/**
 * Baseline export: one process reads the sessions collection with the mongodb
 * driver and writes CSV with csv-stringify, streamed to a file with
 * backpressure. The least anyone could do to get this file.
 */
import { stringify } from "csv-stringify";
import { createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { MongoClient } from "mongodb";
import { SESSION_COLUMNS } from "../lib/data.js";
import { runAsWorker } from "../lib/worker.js";

interface Args {
  uri: string;
  database: string;
  out: string;
  limit?: number;
}

runAsWorker<Args>(async ({ uri, database, out, limit }) => {
  const client = new MongoClient(uri);
  await client.connect();
  try {
    const t0 = performance.now();
    const cursor = client
      .db(database)
      .collection("sessions")
      .find({}, { projection: { _id: 0 }, batchSize: 1000, limit });
    let records = 0;
    const stringifier = stringify({
      header: true,
      columns: SESSION_COLUMNS.map((c) => c.key),
      cast: { date: (d: Date) => d.toISOString() },
      record_delimiter: "windows",
    });
    stringifier.on("data", () => undefined);
    const counted = cursor.stream();
    counted.on("data", () => records++);
    await pipeline(counted, stringifier, createWriteStream(out));
    const ms = performance.now() - t0;
    return { records, bytes: (await stat(out)).size, ms };
  } finally {
    await client.close();
  }
});
