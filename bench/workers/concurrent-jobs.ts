/**
 * Many jobs at once against one transfer service: `exports` CSV exports of
 * `exportRecords` sessions each and one lenient CSV import per file in
 * `imports`, all started together, each from a client of its own (its own
 * HTTP/2 connection, as separate users would be). Export bytes are counted
 * and dropped; imports send their file in 64 KiB chunks. Reports the records
 * moved by all of them together over the wall time of the slowest.
 *
 * With `probeEveryMs`, it also calls `Health.Check` on the transfer service
 * and, given `recordsUrl`, on the records service — each on a connection of
 * its own, a pause of `probeEveryMs` between calls — first `idleProbes`
 * times before the jobs start, then for as long as they run, and reports how
 * long each call took: what any other caller of the services waited for an
 * answer while they were busy (a slow Health.Check is an event loop busy
 * with the jobs).
 */
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { Entity, WriteMode } from "../../gen/dataexchange/records/v1/records_pb.js";
import { ImportRequestSchema, TransferService, type ImportRequest } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { SESSION_COLUMNS } from "../lib/data.js";
import { runAsWorker } from "../lib/worker.js";

interface Args {
  url: string;
  token?: string;
  exports: number;
  /** Records each export must deliver (asked for as its limit: imports running beside it add sessions). */
  exportRecords: number;
  imports: { file: string; rows: number }[];
  /** Probe Health.Check every this many milliseconds (none when absent). */
  probeEveryMs?: number;
  /** Probes before the jobs start (the idle figure). */
  idleProbes?: number;
  /** The records service, to probe it too. */
  recordsUrl?: string;
}

/** Milliseconds each Health.Check took, by service, idle and while the jobs ran. */
export interface HealthProbes {
  idle: Record<string, number[]>;
  busy: Record<string, number[]>;
}

runAsWorker<Args>(async ({ url, token, exports, exportRecords, imports, probeEveryMs, idleProbes = 20, recordsUrl }) => {
  const headers = token ? { authorization: `Bearer ${token}` } : undefined;
  const client = () => createClient(TransferService, createGrpcTransport({ baseUrl: url }));

  const exportOne = async (): Promise<{ records: number; bytes: number }> => {
    let bytes = 0;
    let records = 0;
    for await (const response of client().export({ entity: Entity.SESSIONS, format: "csv", fields: SESSION_COLUMNS.map((c) => c.key), limit: BigInt(exportRecords) }, { headers })) {
      if (response.event.case === "chunk") bytes += response.event.value.byteLength;
      else if (response.event.case === "summary") records = Number(response.event.value.records);
    }
    if (records !== exportRecords) throw new Error(`an export delivered ${records} of ${exportRecords} records`);
    return { records, bytes };
  };

  const importOne = async (file: string, rows: number): Promise<{ records: number; bytes: number }> => {
    async function* requests(): AsyncGenerator<ImportRequest> {
      yield create(ImportRequestSchema, { message: { case: "header", value: { entity: Entity.SESSIONS, format: "csv", mode: WriteMode.INSERT, strict: false } } });
      for await (const chunk of createReadStream(file, { highWaterMark: 64 * 1024 })) yield create(ImportRequestSchema, { message: { case: "chunk", value: chunk as Buffer } });
    }
    let inserted = -1;
    for await (const response of client().import(requests(), { headers })) if (response.event.case === "summary") inserted = Number(response.event.value.inserted);
    if (inserted !== rows) throw new Error(`an import wrote ${inserted} of ${rows} rows`);
    return { records: rows, bytes: (await stat(file)).size };
  };

  // Each probed service on a connection of its own, not shared with any job.
  const probed = probeEveryMs === undefined ? [] : [{ name: "transfer", health: createClient(Health, createGrpcTransport({ baseUrl: url })) }];
  if (probeEveryMs !== undefined && recordsUrl) probed.push({ name: "records", health: createClient(Health, createGrpcTransport({ baseUrl: recordsUrl })) });
  const probes: HealthProbes = { idle: {}, busy: {} };
  const probeAll = async (into: Record<string, number[]>) => {
    for (const { name, health } of probed) {
      const t0 = performance.now();
      await health.check({});
      (into[name] ??= []).push(performance.now() - t0);
    }
  };
  for (let i = 0; probed.length > 0 && i < idleProbes; i++) {
    await probeAll(probes.idle);
    await sleep(probeEveryMs!);
  }

  let running = true;
  const probing = (async () => {
    while (running && probed.length > 0) {
      await probeAll(probes.busy);
      await sleep(probeEveryMs!);
    }
  })();
  const t0 = performance.now();
  let done: { records: number; bytes: number }[];
  try {
    done = await Promise.all([...Array.from({ length: exports }, exportOne), ...imports.map((i) => importOne(i.file, i.rows))]);
  } finally {
    running = false;
  }
  const ms = performance.now() - t0;
  await probing;
  return {
    records: done.reduce((sum, d) => sum + d.records, 0),
    bytes: done.reduce((sum, d) => sum + d.bytes, 0),
    ms,
    extra: { exports, exportRecords, imports: imports.length, importRows: imports.reduce((sum, i) => sum + i.rows, 0), ...(probed.length > 0 ? { probes } : {}) },
  };
});
