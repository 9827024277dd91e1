/**
 * Section `startup`: what running the services compiled (dist/, plain node,
 * as `npm start` does) saves against running their TypeScript under tsx, in
 * the same rounds, alternating which goes first. For each service: the time
 * from spawning the process to its listening line, and its resident memory
 * once idle (VmRSS two seconds after it listens). For the transfer service
 * also what one format worker thread costs: its RSS after a CSV export
 * (in-thread) and again after an XLSX export (in a worker, whose thread then
 * stays ready in the pool), the difference being the thread.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { startRecords, type BenchContext } from "../lib/context.js";
import { seedReferences } from "../lib/data.js";
import { rssMb, type Service } from "../lib/processes.js";
import { fmtMb, median, type TableRow } from "../lib/report.js";
import { mintToken, startTransfer } from "./e2e.js";

export const STARTUP_DB = "bench_startup";
const BUILDS = ["compiled", "source"] as const;
type Build = (typeof BUILDS)[number];
const SETTLE_MS = 2_000;

interface StartupSample {
  build: Build;
  recordsStartMs: number;
  recordsIdleMb?: number;
  transferStartMs: number;
  transferIdleMb?: number;
  afterCsvMb?: number;
  afterXlsxMb?: number;
}

/** Downloads `GET /export/{format}?entity=users` to nothing; throws unless it is a 200 with a body. */
async function download(transfer: Service, format: string, token: string | undefined): Promise<void> {
  const response = await fetch(`${transfer.url}/export/${format}?entity=users`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const bytes = (await response.arrayBuffer()).byteLength;
  if (response.status !== 200 || bytes === 0) throw new Error(`GET /export/${format}: ${response.status}, ${bytes} bytes`);
}

async function measure(ctx: BenchContext, build: Build, token: string | undefined): Promise<StartupSample> {
  const asBuilt = { ...ctx, options: { ...ctx.options, fromSource: build === "source" } };
  const records = await startRecords(asBuilt, STARTUP_DB);
  try {
    await sleep(SETTLE_MS);
    const recordsIdleMb = rssMb(records.pid);
    const transfer = await startTransfer(asBuilt, records.url);
    try {
      await sleep(SETTLE_MS);
      const transferIdleMb = rssMb(transfer.pid);
      await download(transfer, "csv", token);
      await sleep(SETTLE_MS);
      const afterCsvMb = rssMb(transfer.pid);
      await download(transfer, "xlsx", token);
      await sleep(SETTLE_MS);
      const afterXlsxMb = rssMb(transfer.pid);
      return { build, recordsStartMs: records.startMs, recordsIdleMb, transferStartMs: transfer.startMs, transferIdleMb, afterCsvMb, afterXlsxMb };
    } finally {
      await transfer.stop();
    }
  } finally {
    await records.stop();
  }
}

export async function startupRows(ctx: BenchContext): Promise<{ rows: TableRow[]; raw: unknown }> {
  const rounds = Math.max(3, ctx.options.rounds);
  const db = ctx.client.db(STARTUP_DB);
  await seedReferences(db);
  const token = await mintToken(ctx);
  ctx.log(`startup: records and transfer services compiled vs from source (tsx), ${rounds} rounds`);
  const samples: StartupSample[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const build of round % 2 ? BUILDS : [...BUILDS].reverse()) {
      const sample = await measure(ctx, build, token);
      ctx.log(
        `startup round ${round} ${build}: records ${sample.recordsStartMs.toFixed(0)} ms ${fmtMb(sample.recordsIdleMb)}, transfer ${sample.transferStartMs.toFixed(0)} ms ${fmtMb(sample.transferIdleMb)}, after CSV ${fmtMb(sample.afterCsvMb)}, after XLSX ${fmtMb(sample.afterXlsxMb)}`,
      );
      samples.push(sample);
    }
  }
  const of = (build: Build, pick: (s: StartupSample) => number | undefined) => median(samples.filter((s) => s.build === build).map((s) => pick(s) ?? NaN));
  const row = (name: string, pick: (s: StartupSample) => number | undefined, unit: "ms" | "MB"): TableRow => {
    const compiled = of("compiled", pick);
    const source = of("source", pick);
    const fmt = (v: number) => (unit === "ms" ? `${v.toFixed(0)} ms` : fmtMb(v));
    return { section: "startup", name, n: 0, rounds, ours: fmt(compiled), theirs: `tsx ${fmt(source)}`, ratio: compiled / source, target: "info" };
  };
  const worker = (s: StartupSample) => (s.afterXlsxMb !== undefined && s.afterCsvMb !== undefined ? s.afterXlsxMb - s.afterCsvMb : undefined);
  const rows = [
    row("records service: spawn → listening, compiled vs tsx", (s) => s.recordsStartMs, "ms"),
    row("records service: idle RSS", (s) => s.recordsIdleMb, "MB"),
    row("transfer service: spawn → listening", (s) => s.transferStartMs, "ms"),
    row("transfer service: idle RSS", (s) => s.transferIdleMb, "MB"),
    row("transfer service: RSS added by one format worker (after an XLSX export, over one after a CSV export)", worker, "MB"),
  ];
  return { rows, raw: samples };
}
