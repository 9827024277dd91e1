/**
 * Our export end to end: a Connect gRPC client calls the transfer service's
 * Export (server streaming) and writes the file chunks it receives to disk.
 * The transfer service streams from the records service, which reads the
 * database; each is its own process.
 */
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { Entity } from "../../gen/dataexchange/records/v1/records_pb.js";
import { TransferService } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { SESSION_COLUMNS } from "../lib/data.js";
import { runAsWorker } from "../lib/worker.js";

interface Args {
  url: string;
  format: "csv" | "ndjson";
  out: string;
  limit?: number;
  token?: string;
}

runAsWorker<Args>(async ({ url, format, out, limit, token }) => {
  const client = createClient(TransferService, createGrpcTransport({ baseUrl: url }));
  const file = createWriteStream(out);
  const t0 = performance.now();
  let bytes = 0;
  let summary: { records: bigint; bytes: bigint } | undefined;
  const headers = token ? { authorization: `Bearer ${token}` } : undefined;
  for await (const response of client.export({ entity: Entity.SESSIONS, format, fields: SESSION_COLUMNS.map((c) => c.key), limit: BigInt(limit ?? 0) }, { headers })) {
    const event = response.event;
    if (event.case === "chunk") {
      bytes += event.value.byteLength;
      if (!file.write(event.value)) await once(file, "drain");
    } else if (event.case === "summary") {
      summary = event.value;
    }
  }
  file.end();
  await once(file, "close");
  const ms = performance.now() - t0;
  if (!summary) throw new Error("the export ended without a summary");
  if (Number(summary.bytes) !== bytes) throw new Error(`the summary says ${summary.bytes} bytes, ${bytes} arrived`);
  return { records: Number(summary.records), bytes, ms };
});
