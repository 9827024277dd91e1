/**
 * Our import end to end: a Connect gRPC client streams the CSV file to the
 * transfer service's Import (bidi: a header, then 64 KiB chunks) and reads
 * the progress, row errors and summary as they come. Lenient (strict: false)
 * unless `strict` is set: rejected rows are reported and the rest is written.
 * Any write mode, and dry runs (the re-import rows, sections/reimport.ts).
 */
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { create } from "@bufbuild/protobuf";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Entity, WriteMode } from "../../gen/dataexchange/records/v1/records_pb.js";
import { ImportRequestSchema, TransferService, type ImportRequest } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { runAsWorker } from "../lib/worker.js";

const MODES = { insert: WriteMode.INSERT, upsert: WriteMode.UPSERT, merge: WriteMode.MERGE, "skip-existing": WriteMode.SKIP_EXISTING } as const;

interface Args {
  url: string;
  file: string;
  mode: keyof typeof MODES;
  token?: string;
  strict?: boolean;
  dryRun?: boolean;
  /** The entity of the file (sessions by default). */
  entity?: "sessions" | "users";
}

runAsWorker<Args>(async ({ url, file, mode, token, strict = false, dryRun = false, entity = "sessions" }) => {
  const client = createClient(TransferService, createGrpcTransport({ baseUrl: url }));
  const t0 = performance.now();
  async function* requests(): AsyncGenerator<ImportRequest> {
    yield create(ImportRequestSchema, {
      message: { case: "header", value: { entity: entity === "users" ? Entity.USERS : Entity.SESSIONS, format: "csv", mode: MODES[mode], strict, dryRun, fileName: `${entity}.csv` } },
    });
    for await (const chunk of createReadStream(file, { highWaterMark: 64 * 1024 })) {
      yield create(ImportRequestSchema, { message: { case: "chunk", value: chunk as Buffer } });
    }
  }
  let rowErrors = 0;
  let firstError: string | undefined;
  let summary: Record<string, unknown> | undefined;
  const headers = token ? { authorization: `Bearer ${token}` } : undefined;
  for await (const response of client.import(requests(), { headers })) {
    const event = response.event;
    if (event.case === "rowError") {
      rowErrors++;
      firstError ??= `row ${event.value.row} ${event.value.column}: ${event.value.reason}`;
    } else if (event.case === "summary") {
      const s = event.value;
      summary = {
        read: Number(s.read),
        inserted: Number(s.inserted),
        updated: Number(s.updated),
        unchanged: Number(s.unchanged),
        skipped: Number(s.skipped),
        failed: Number(s.failed),
        state: s.state,
      };
    }
  }
  const ms = performance.now() - t0;
  if (!summary) throw new Error("the import ended without a summary");
  return { records: summary.read as number, bytes: (await stat(file)).size, ms, extra: { ...summary, rowErrors, firstError } };
});
