/**
 * Our import at the records level: the file is read with our CSV plugin
 * through the formats/_sdk interface, cells are typed with coerceCell, and
 * records go to the records service over WriteRecords (Connect gRPC, bidi) in
 * batches of 1000, unordered (lenient), with up to 4 batches unanswered, as
 * the seed loader and the transfer core do. No transfer service in between.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Entity, EntityRecordSchema, RecordsService, WriteMode, WriteRecordsRequestSchema, type EntityRecord, type WriteRecordsRequest } from "../../gen/dataexchange/records/v1/records_pb.js";
import csv from "../../formats/csv/index.js";
import { coerceCell, DEFAULT_READ_LIMITS, type Column } from "../../formats/_sdk/index.js";
import { SESSION_COLUMNS } from "../lib/data.js";
import { runAsWorker } from "../lib/worker.js";

interface Args {
  url: string;
  file: string;
  mode: "insert" | "upsert";
  inFlight?: number;
}

const columns: Column[] = SESSION_COLUMNS.map((c) => ({ key: c.key, label: c.key, type: c.type }));

runAsWorker<Args>(async ({ url, file, mode, inFlight = 4 }) => {
  const client = createClient(RecordsService, createGrpcTransport({ baseUrl: url }));
  const t0 = performance.now();
  const counts = { rows: 0, rowErrors: 0, cellErrors: 0, inserted: 0, updated: 0, unchanged: 0, failed: 0 };
  let pending = 0;
  let wake: (() => void) | undefined;
  let closed = false;
  const writeMode = mode === "insert" ? WriteMode.INSERT : WriteMode.UPSERT;

  const request = (records: EntityRecord[], id: number): WriteRecordsRequest => {
    pending++;
    return create(WriteRecordsRequestSchema, { entity: Entity.SESSIONS, mode: writeMode, ordered: false, batchId: String(id), records });
  };
  async function* requests(): AsyncGenerator<WriteRecordsRequest> {
    let batch: EntityRecord[] = [];
    let id = 0;
    const input = createReadStream(file, { highWaterMark: 64 * 1024 });
    for await (const items of csv.read!(input, { options: csv.options.parse({}), columns, limits: DEFAULT_READ_LIMITS })) {
      for (const item of items) {
        if (item.kind === "header" || item.kind === "encoding") continue;
        counts.rows++;
        if (item.kind === "error") {
          counts.rowErrors++;
          continue;
        }
        const value: Record<string, unknown> = {};
        let bad = false;
        for (const c of columns) {
          const cell = coerceCell(item.row.values[c.key], c.type);
          if (!cell.ok) {
            bad = true;
            break;
          }
          if (cell.value === undefined || cell.value === null) continue;
          value[c.key] = cell.value instanceof Date ? timestampFromDate(cell.value) : cell.value;
        }
        if (bad) {
          counts.cellErrors++;
          continue;
        }
        batch.push(create(EntityRecordSchema, { kind: { case: "session", value } } as MessageInitShape<typeof EntityRecordSchema>));
        if (batch.length < 1000) continue;
        while (pending >= inFlight && !closed) await new Promise<void>((r) => (wake = r));
        yield request(batch, id++);
        batch = [];
      }
    }
    if (batch.length > 0) yield request(batch, id++);
  }
  try {
    for await (const response of client.writeRecords(requests())) {
      pending--;
      counts.inserted += response.inserted;
      counts.updated += response.updated;
      counts.unchanged += response.unchanged;
      counts.failed += response.failed;
      const w = wake;
      wake = undefined;
      w?.();
    }
  } finally {
    closed = true;
    wake?.();
  }
  const ms = performance.now() - t0;
  return { records: counts.rows, bytes: (await stat(file)).size, ms, extra: counts };
});
