/**
 * Plugins alone, no network and no database: the CSV plugin (through the
 * formats/_sdk interface, exactly as the transfer core calls it) against the
 * raw csv-stringify / csv-parse libraries, on the same rows and bytes, in
 * interleaved rounds inside one process.
 *
 * Both writers get batches of 1000 rows and produce UTF-8 bytes (csv-stringify
 * through its sync API per batch, its fastest form). Both readers get the
 * same file in 64 KiB chunks (csv-parse as a stream, counting records in a
 * `data` listener: no per-record await on its side).
 */
import { parse } from "csv-parse";
import { stringify } from "csv-stringify/sync";
import { Readable } from "node:stream";
import csv from "../../formats/csv/index.js";
import { DEFAULT_READ_LIMITS, type Column, type Row } from "../../formats/_sdk/index.js";
import { session, SESSION_COLUMNS } from "../lib/data.js";
import { runAsWorker } from "../lib/worker.js";

interface Args {
  n: number;
  rounds: number;
}

const columns: Column[] = SESSION_COLUMNS.map((c) => ({ key: c.key, label: c.key, type: c.type }));
const BATCH = 1000;

function makeBatches(n: number): Row[][] {
  // 100 distinct batches, reused: generating rows must not be what is timed.
  const distinct = Array.from({ length: Math.min(100, Math.ceil(n / BATCH)) }, (_, b) => Array.from({ length: BATCH }, (_, i) => session(b * BATCH + i) as Row));
  const batches: Row[][] = [];
  for (let done = 0, b = 0; done < n; done += BATCH, b++) batches.push(distinct[b % distinct.length]!.slice(0, Math.min(BATCH, n - done)));
  return batches;
}

async function* iterate<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

async function pluginWrite(batches: Row[][]): Promise<number> {
  let bytes = 0;
  const options = csv.options.parse({ formulaEscape: false });
  for await (const chunk of csv.write!(iterate(batches), { columns, options, useLabels: false })) bytes += chunk.byteLength;
  return bytes;
}

async function rawWrite(batches: Row[][]): Promise<number> {
  let bytes = 0;
  const keys = columns.map((c) => c.key);
  const options = { columns: keys, cast: { date: (d: Date) => d.toISOString() }, record_delimiter: "windows" as const };
  let first = true;
  for (const batch of batches) {
    const text = stringify(batch, { ...options, header: first });
    first = false;
    bytes += Buffer.from(text, "utf8").byteLength;
    await undefined; // one async step per batch, as a streaming writer has
  }
  return bytes;
}

async function pluginRead(chunks: Buffer[]): Promise<number> {
  let rows = 0;
  const options = csv.options.parse({ delimiter: "," });
  for await (const items of csv.read!(iterate(chunks), { options, columns, limits: DEFAULT_READ_LIMITS })) {
    for (const item of items) if (item.kind === "row") rows++;
  }
  return rows;
}

async function rawRead(chunks: Buffer[]): Promise<number> {
  let rows = 0;
  const parser = parse({ columns: true, delimiter: "," });
  parser.on("data", () => rows++);
  const done = new Promise<void>((resolve, reject) => {
    parser.once("end", resolve);
    parser.once("error", reject);
  });
  Readable.from(chunks).pipe(parser);
  await done;
  return rows;
}

function chunk(buffer: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buffer.length; i += size) out.push(buffer.subarray(i, i + size));
  return out;
}

runAsWorker<Args>(async ({ n, rounds }) => {
  const batches = makeBatches(n);
  const parts: Uint8Array[] = [];
  for await (const c of csv.write!(iterate(batches), { columns, options: csv.options.parse({ formulaEscape: false }), useLabels: false })) parts.push(c);
  const file = Buffer.concat(parts);
  const chunks = chunk(file, 64 * 1024);

  const variants: [string, () => Promise<number>][] = [
    ["plugin-write", () => pluginWrite(batches)],
    ["raw-write", () => rawWrite(batches)],
    ["plugin-read", () => pluginRead(chunks)],
    ["raw-read", () => rawRead(chunks)],
  ];
  // Warm-up: one small pass of each, so the first timed round is not the JIT's.
  const samples: Record<string, { ms: number; count: number }[]> = {};
  for (const [name, fn] of variants) {
    samples[name] = [];
    await fn();
  }
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of variants) {
      const t0 = performance.now();
      const count = await fn();
      samples[name]!.push({ ms: performance.now() - t0, count });
    }
  }
  const rowsRead = samples["plugin-read"]![0]!.count;
  const rawRowsRead = samples["raw-read"]![0]!.count;
  if (rowsRead !== n || rawRowsRead !== n) throw new Error(`read ${rowsRead} (plugin) and ${rawRowsRead} (csv-parse) rows, expected ${n}`);
  return { records: n, bytes: file.length, ms: 0, extra: { samples, pluginBytes: samples["plugin-write"]![0]!.count, rawBytes: samples["raw-write"]![0]!.count } };
});
