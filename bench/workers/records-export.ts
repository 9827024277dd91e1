/**
 * Our export at the records level: a Connect gRPC client streams the sessions
 * from the records service (StreamRecords, batches of 1000) and writes the
 * file with our format plugin (CSV or NDJSON) through the formats/_sdk
 * interface, as the transfer service's core does. No transfer service in
 * between: this isolates records service + wire + plugin.
 */
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { Entity, RecordsService } from "../../gen/dataexchange/records/v1/records_pb.js";
import type { Column, FormatPlugin, Row } from "../../formats/_sdk/index.js";
import { SESSION_COLUMNS } from "../lib/data.js";
import { runAsWorker } from "../lib/worker.js";

interface Args {
  url: string;
  format: "csv" | "ndjson";
  out: string;
  limit?: number;
}

const columns: Column[] = SESSION_COLUMNS.map((c) => ({ key: c.key, label: c.key, type: c.type }));

runAsWorker<Args>(async ({ url, format, out, limit }) => {
  const plugin = (await import(`../../formats/${format}/index.js`)).default as FormatPlugin;
  const client = createClient(RecordsService, createGrpcTransport({ baseUrl: url }));
  let records = 0;
  const t0 = performance.now();
  async function* rows(): AsyncGenerator<Row[]> {
    for await (const response of client.streamRecords({ entity: Entity.SESSIONS, batchSize: 1000, limit: BigInt(limit ?? 0) })) {
      const batch: Row[] = [];
      for (const record of response.records) {
        if (record.kind.case !== "session") continue;
        const s = record.kind.value;
        const row: Row = { sessionId: s.sessionId, userId: s.userId, courseId: s.courseId, status: s.status, score: s.score };
        if (s.startedAt) row.startedAt = timestampDate(s.startedAt as Timestamp);
        if (s.endedAt) row.endedAt = timestampDate(s.endedAt as Timestamp);
        batch.push(row);
      }
      records += batch.length;
      yield batch;
    }
  }
  const options = plugin.options.parse({});
  await pipeline(plugin.write!(rows(), { columns, options, useLabels: plugin.audience === "human" }), createWriteStream(out));
  const ms = performance.now() - t0;
  return { records, bytes: (await stat(out)).size, ms };
});
