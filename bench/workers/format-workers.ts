/**
 * Format workers' throughput, no network and no database: each shipped
 * plugin in-thread (exactly as the transfer core calls it) against its
 * worker-backed proxy (services/transfer/plugins/workers, as the service
 * runs it), on the same rows and bytes, in interleaved rounds inside one
 * process.
 *
 * Writers get batches of 1000 session rows (100 distinct batches, reused, so
 * generating rows is not what is timed); readers get the file the in-thread
 * writer made, in 64 KiB chunks. Formats run one after another; within a
 * format, in-thread and worker runs alternate. Timed: from the first pull to the last
 * batch out, so the worker side includes cloning rows across, transferring
 * bytes back, and every credit message in between.
 */
import type { Column, FormatPlugin, Row } from "../../formats/_sdk/index.js";
import { formatWorkersSchema } from "../../services/transfer/config/transfer-config.js";
import { defaultFormatsDir, discoverPlugins } from "../../services/transfer/plugins/index.js";
import { startFormatWorkers } from "../../services/transfer/plugins/workers/index.js";
import { session, SESSION_COLUMNS } from "../lib/data.js";
import { runAsWorker } from "../lib/worker.js";

interface Args {
  n: number;
  rounds: number;
  formats: string[];
  /** Plugin folders besides formats/, if any. */
  pluginDirs?: string[];
}

export type Operation = "write" | "read";
export type Mode = "in-thread" | "workers";
export interface ThroughputSample {
  ms: number;
  /** Time the main thread's event loop was busy during the run (all of it in-thread; its share with workers). */
  mainMs: number;
  rows: number;
  bytes: number;
}

const columns: Column[] = SESSION_COLUMNS.map((c) => ({ key: c.key, label: c.key, type: c.type }));
const BATCH = 1000;
const CHUNK = 64 * 1024;

function makeBatches(n: number): Row[][] {
  const distinct = Array.from({ length: Math.min(100, Math.ceil(n / BATCH)) }, (_, b) => Array.from({ length: BATCH }, (_, i) => session(b * BATCH + i) as Row));
  const batches: Row[][] = [];
  for (let done = 0, b = 0; done < n; done += BATCH, b++) batches.push(distinct[b % distinct.length]!.slice(0, Math.min(BATCH, n - done)));
  return batches;
}

async function* iterate<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

/** Writes the rows and counts the bytes; with `keep`, also returns them (once per format, as the readers' input). */
async function write(plugin: FormatPlugin, batches: Row[][], keep?: Buffer[]): Promise<ThroughputSample> {
  let bytes = 0;
  const elu = performance.eventLoopUtilization();
  const t0 = performance.now();
  for await (const chunk of plugin.write!(iterate(batches), { columns, options: plugin.options.parse({}), useLabels: false })) {
    bytes += chunk.byteLength;
    keep?.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  const ms = performance.now() - t0;
  return { ms, mainMs: performance.eventLoopUtilization(elu).active, rows: batches.reduce((s, b) => s + b.length, 0), bytes };
}

async function read(plugin: FormatPlugin, chunks: Buffer[]): Promise<ThroughputSample> {
  let rows = 0;
  let bytes = 0;
  for (const c of chunks) bytes += c.byteLength;
  const elu = performance.eventLoopUtilization();
  const t0 = performance.now();
  for await (const items of plugin.read!(iterate(chunks), { options: plugin.options.parse({}), columns, limits: { maxRowBytes: 1 << 20, maxColumns: 100 } })) {
    for (const item of items) if (item.kind === "row") rows++;
  }
  const ms = performance.now() - t0;
  return { ms, mainMs: performance.eventLoopUtilization(elu).active, rows, bytes };
}

function chunksOf(file: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < file.length; i += CHUNK) out.push(file.subarray(i, i + CHUNK));
  return out;
}

runAsWorker<Args>(async ({ n, rounds, formats, pluginDirs = [] }) => {
  const discovered = await discoverPlugins([defaultFormatsDir(), ...pluginDirs]);
  const workers = await startFormatWorkers(discovered, formatWorkersSchema.parse({ mode: "workers", poolSize: 1 }));
  try {
    const batches = makeBatches(n);
    const samples: Record<string, ThroughputSample[]> = {};
    const variants: { id: string; format: string; operation: Operation; mode: Mode }[] = [];
    // One format at a time, so that only its file is held (a million rows of every format at once
    // would slow the main thread's garbage collector, and with it the in-thread runs).
    for (const format of formats) {
      const local = discovered.plugins.get(format);
      const remote = workers.plugins.plugins.get(format);
      if (!local || !remote) throw new Error(`no ${format} plugin: ${JSON.stringify(workers.plugins.failures)}`);
      const kept: Buffer[] = [];
      if (local.read) await write(local, batches, kept);
      const chunks = local.read ? chunksOf(Buffer.concat(kept.splice(0))) : [];
      const runs: { id: string; run: () => Promise<ThroughputSample> }[] = [];
      for (const operation of local.read ? (["write", "read"] as const) : (["write"] as const)) {
        for (const [mode, plugin] of [
          ["in-thread", local],
          ["workers", remote],
        ] as const) {
          const id = `${format}-${operation}-${mode}`;
          variants.push({ id, format, operation, mode });
          samples[id] = [];
          runs.push({ id, run: operation === "write" ? () => write(plugin, batches) : () => read(plugin, chunks) });
        }
      }
      // Warm-up: one pass of each, so the first timed round is not the JIT's (and the worker has loaded the plugin).
      for (const r of runs) await r.run();
      for (let round = 0; round < rounds; round++) {
        for (const r of runs) {
          const sample = await r.run();
          if (sample.rows !== n) throw new Error(`${r.id} handled ${sample.rows} rows, expected ${n}`);
          samples[r.id]!.push(sample);
        }
      }
    }
    return { records: n, bytes: 0, ms: 0, extra: { samples, variants, pool: workers.pool?.stats() } };
  } finally {
    await workers.close();
  }
});
