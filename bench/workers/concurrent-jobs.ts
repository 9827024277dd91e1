/**
 * Many jobs at once against one transfer service: `exports` CSV exports of
 * `exportRecords` sessions each and one lenient CSV import per file in
 * `imports`, all started together, each from a client of its own (its own
 * HTTP/2 connection, as separate users would be). Export bytes are counted
 * and dropped; imports send their file in 64 KiB chunks. Reports the records
 * moved by all of them together over the wall time of the slowest.
 *
 * With `probeEveryMs`, it also calls `Health.Check` on the transfer service
 * and, given `recordsUrl`, on the records service — each from a prober
 * process of its own (prober-process.ts), a pause of `probeEveryMs` between
 * calls — first `idleProbes` times before the jobs start, then for as long
 * as they run, and reports how long each call took: what any other caller
 * of the services waited for an answer while they were busy. Not from this
 * process: its event loop takes in twelve jobs' streams, and a probe here
 * waited for it as much as for the service.
 */
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { setPriority } from "node:os";
import { Entity, WriteMode } from "../../gen/dataexchange/records/v1/records_pb.js";
import { ImportRequestSchema, TransferService, type ImportRequest } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { SESSION_COLUMNS } from "../lib/data.js";
import { runAsWorker } from "../lib/worker.js";
import { startProber, type ProberProcess } from "./prober-process.js";

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
  /**
   * Nice value for this process's main thread, where the jobs' clients run,
   * taken once the probers are started (they keep the usual priority, so
   * they wait for nobody but the service they probe).
   */
  jobsNice?: number;
}

/** Milliseconds each Health.Check took, by service, idle and while the jobs ran. */
export interface HealthProbes {
  idle: Record<string, number[]>;
  busy: Record<string, number[]>;
}

runAsWorker<Args>(async ({ url, token, exports, exportRecords, imports, probeEveryMs, idleProbes = 20, recordsUrl, jobsNice }) => {
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

  // Each probed service from a process of its own, on a connection of its own; Health.Check of the whole server.
  const targets = probeEveryMs === undefined ? [] : [{ name: "transfer", url }, ...(recordsUrl ? [{ name: "records", url: recordsUrl }] : [])];
  const probers: { name: string; prober: ProberProcess }[] = [];
  try {
    for (const target of targets) probers.push({ name: target.name, prober: await startProber({ url: target.url, probeEveryMs: probeEveryMs!, idleProbes, healthService: "", listFormats: false }) });
    // On Linux this is the calling thread's priority: the main thread's, where every job's client runs.
    if (jobsNice) setPriority(jobsNice);
    for (const { prober } of probers) prober.start();
    const t0 = performance.now();
    const done = await Promise.all([...Array.from({ length: exports }, exportOne), ...imports.map((i) => importOne(i.file, i.rows))]);
    const ms = performance.now() - t0;
    const probes: HealthProbes = { idle: {}, busy: {} };
    for (const { name, prober } of probers) {
      const { idle, busy } = await prober.stop();
      probes.idle[name] = idle.health;
      probes.busy[name] = busy.health;
    }
    return {
      records: done.reduce((sum, d) => sum + d.records, 0),
      bytes: done.reduce((sum, d) => sum + d.bytes, 0),
      ms,
      extra: { exports, exportRecords, imports: imports.length, importRows: imports.reduce((sum, i) => sum + i.rows, 0), ...(probers.length > 0 ? { probes } : {}) },
    };
  } finally {
    for (const { prober } of probers) prober.kill();
  }
});
