/**
 * Format workers (services/transfer/plugins/workers): what running plugins
 * off the event loop costs and what it buys.
 *
 * 1. Plugins alone: each shipped format's write and read, in-thread against
 *    its worker-backed proxy, same rows and bytes, interleaved rounds in one
 *    process: rows/s (median) and how long the main thread's event loop was
 *    busy (what the service's RPCs would have waited for).
 *    The spreadsheet formats (XLSX, ODS) are measured the same way: they
 *    are the heavy ones, and run in workers by default because of it.
 * 2. The transfer service under a heavy export: a client exports N sessions
 *    in pretty JSON and in XLSX (the heaviest shipped writer) from a transfer service fed by a synthetic records service (no
 *    database, pre-encoded frames), and meanwhile calls Health.Check and
 *    ListFormats on a connection of its own: p50 / p99 latency of those
 *    unary calls, and the export's rows/s, with the service's plugins
 *    in-thread and in workers, interleaved rounds.
 *
 * Quick runs use N = 50k with two rounds of (2), to stay a small part of
 * the quick budget.
 */
import { BUILT_IN_FORMAT_MODES } from "../../services/transfer/plugins/workers/index.js";
import type { BenchContext } from "../lib/context.js";
import { EVENT_LOOP_PROBE_FLAGS, runWorker, startService, type Service } from "../lib/processes.js";
import { fmtRate, median, type TableRow } from "../lib/report.js";
import type { ThroughputSample } from "../workers/format-workers.js";
import type { LatencyProbes } from "../workers/format-workers-latency.js";
import { eventLoopOf, mintToken, type EventLoopFigures } from "./e2e.js";

const FORMATS = ["csv", "json", "ndjson", "xlsx", "ods"];
interface Workload {
  format: string;
  formatOptions?: { [k: string]: boolean | number };
  label: string;
}
const WORKLOADS: Workload[] = [
  { format: "json", formatOptions: { pretty: true }, label: "pretty JSON" },
  { format: "xlsx", label: "XLSX" },
];
let transferDbs = 0;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const ms = (v: number) => (Number.isFinite(v) ? `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ms` : "n/a");

async function throughputRows(ctx: BenchContext, n: number): Promise<{ rows: TableRow[]; raw: unknown }> {
  const rounds = ctx.options.pluginRounds;
  ctx.log(`format workers, plugins alone: ${n} rows, ${FORMATS.join("/")} write and read, in-thread vs workers, ${rounds} interleaved rounds`);
  const r = await runWorker("bench/workers/format-workers.ts", { n, rounds, formats: FORMATS });
  const samples = (r.extra as { samples: Record<string, ThroughputSample[]> }).samples;
  const rate = (id: string) => median(samples[id]!.map((s) => (s.rows / s.ms) * 1000));
  const main = (id: string) => median(samples[id]!.map((s) => s.mainMs));
  const rows: TableRow[] = [];
  for (const format of FORMATS) {
    for (const operation of ["write", "read"] as const) {
      const workers = `${format}-${operation}-workers`;
      if (!samples[workers]) continue;
      const local = `${format}-${operation}-in-thread`;
      const ratio = rate(workers) / rate(local);
      rows.push({
        section: "workers",
        name: `${format.toUpperCase()} ${operation}: workers vs in-thread`,
        n,
        rounds,
        ours: `${fmtRate(rate(workers), "rows/s")}, main busy ${ms(main(workers))}`,
        theirs: `${fmtRate(rate(local), "rows/s")}, main busy ${ms(main(local))}`,
        ratio,
        target: "≥ 1.0× for a workers default",
        met: ratio >= 1,
        note: operation === "read" ? `default for ${format}: ${BUILT_IN_FORMAT_MODES[format] ?? "workers"} (plugins/workers/format-modes.ts)` : undefined,
      });
    }
  }
  return { rows, raw: r };
}

function startTransfer(ctx: BenchContext, recordsUrl: string, mode: "in-thread" | "workers"): Promise<Service> {
  return startService({
    name: "transfer",
    entry: "services/transfer/server.ts",
    env: {
      MONGODB_URI: ctx.uri,
      TRANSFER_DATABASE: `bench_transfer_workers_${++transferDbs}`,
      TRANSFER_PORT: "0",
      TRANSFER_HOST: "127.0.0.1",
      TRANSFER_RECORDS_URL: recordsUrl,
      TRANSFER_FORMAT_WORKERS_MODE: mode,
      TRANSFER_EXPORT_LOGGING_ENABLED: "false",
      DX_AUTH_DEV: "1",
    },
    ready: /listening on (http:\/\/[^\s]+)/,
    // The event loop's own delay (bench/lib/event-loop-probe.mjs): a slow call is either that or a process that got no core.
    nodeFlags: [...ctx.options.serviceFlags, ...ctx.options.transferFlags, ...EVENT_LOOP_PROBE_FLAGS],
    fromSource: ctx.options.fromSource,
  });
}

interface LatencySample {
  workload: string;
  mode: string;
  records: number;
  ms: number;
  idle: LatencyProbes;
  busy: LatencyProbes;
  rssMb?: number;
  eventLoop?: EventLoopFigures;
}

async function latencyRows(ctx: BenchContext, n: number, rounds: number): Promise<{ rows: TableRow[]; raw: unknown }> {
  ctx.log(`format workers, service under load: ${n}-session exports (${WORKLOADS.map((w) => w.label).join(", ")}) with unary calls beside them, in-thread vs workers, ${rounds} interleaved rounds`);
  const records = await startService({
    name: "synthetic-records",
    entry: "bench/lib/synthetic-records-main.ts",
    env: { SYNTHETIC_RECORDS: String(n) },
    ready: /listening on (http:\/\/[^\s]+)/,
    fromSource: ctx.options.fromSource,
  });
  const token = await mintToken(ctx);
  const samples: LatencySample[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const workload of WORKLOADS) {
        for (const mode of ["in-thread", "workers"] as const) {
          const transfer = await startTransfer(ctx, records.url, mode);
          try {
            const r = await runWorker("bench/workers/format-workers-latency.ts", {
              url: transfer.url,
              token,
              format: workload.format,
              formatOptions: workload.formatOptions,
              probeEveryMs: 10,
              idleProbes: 20,
            });
            const { idle, busy } = r.extra as { idle: LatencyProbes; busy: LatencyProbes };
            if (r.records !== n) throw new Error(`the export wrote ${r.records} of ${n} records`);
            const rssMb = transfer.peakRssMb();
            await transfer.stop();
            const eventLoop = await eventLoopOf(transfer);
            samples.push({ workload: workload.label, mode, records: r.records, ms: r.ms, idle, busy, rssMb, eventLoop });
            ctx.log(
              `  round ${round}/${rounds} ${workload.label} ${mode}: ${fmtRate((r.records / r.ms) * 1000)}; Health.Check p50 ${ms(percentile(busy.health, 50))} p99 ${ms(percentile(busy.health, 99))} (${busy.health.length} calls); transfer ${rssMb?.toFixed(0)} MB${eventLoop ? `, event loop delay p99 ${eventLoop.p99Ms} ms, busy ${Math.round(eventLoop.utilization * 100)} %` : ""}`,
            );
          } catch (error) {
            throw new Error(`${error instanceof Error ? error.message : String(error)}\ntransfer output: ${transfer.output().slice(-1500)}`);
          } finally {
            await transfer.stop();
          }
        }
      }
    }
  } finally {
    await records.stop();
  }
  const rows: TableRow[] = [];
  for (const workload of WORKLOADS) {
    const of = (mode: string) => samples.filter((s) => s.workload === workload.label && s.mode === mode);
    const pooled = (mode: string, which: "idle" | "busy", call: keyof LatencyProbes) => of(mode).flatMap((s) => s[which][call]);
    for (const [call, label] of [
      ["health", "Health.Check"],
      ["listFormats", "ListFormats"],
    ] as const) {
      const p99 = (mode: string) => percentile(pooled(mode, "busy", call), 99);
      const loopP99 = (mode: string) => {
        const figures = of(mode).flatMap((s) => (s.eventLoop ? [s.eventLoop.p99Ms] : []));
        return figures.length > 0 ? `${Math.max(...figures)} ms` : "unknown";
      };
      const p50 = (mode: string) => percentile(pooled(mode, "busy", call), 50);
      rows.push({
        section: "workers",
        name: `${label} latency during a ${workload.label} export`,
        n,
        rounds,
        ours: `workers p50 ${ms(p50("workers"))}, p99 ${ms(p99("workers"))}`,
        theirs: `in-thread p50 ${ms(p50("in-thread"))}, p99 ${ms(p99("in-thread"))}`,
        ratio: p99("in-thread") / p99("workers"),
        target: "p99 in-thread ÷ workers",
        note: `idle p50 ${ms(percentile(pooled("workers", "idle", call), 50))} / ${ms(percentile(pooled("in-thread", "idle", call), 50))}; ${pooled("workers", "busy", call).length} / ${pooled("in-thread", "busy", call).length} calls during the exports; the service's event loop delay p99 ${loopP99("workers")} / ${loopP99("in-thread")} (workers / in-thread, worst round)`,
      });
    }
    const rate = (mode: string) => median(of(mode).map((s) => (s.records / s.ms) * 1000));
    const rss = (mode: string) => Math.max(...of(mode).map((s) => s.rssMb ?? NaN));
    rows.push({
      section: "workers",
      name: `transfer export ${workload.label}, synthetic records: workers vs in-thread`,
      n,
      rounds,
      ours: `${fmtRate(rate("workers"))}, peak ${rss("workers").toFixed(0)} MB`,
      theirs: `${fmtRate(rate("in-thread"))}, peak ${rss("in-thread").toFixed(0)} MB`,
      ratio: rate("workers") / rate("in-thread"),
      target: "—",
    });
  }
  return { rows, raw: samples };
}

/** With `serviceOnly` (`--only workers-service`), only part 2: the service under a heavy export. */
export async function formatWorkerRows(ctx: BenchContext, serviceOnly = false): Promise<{ rows: TableRow[]; raw: unknown }> {
  const { quick, n } = ctx.options;
  if (serviceOnly) {
    const latency = await latencyRows(ctx, quick ? 50_000 : n, quick ? 2 : ctx.options.rounds);
    return { rows: latency.rows, raw: { latency: latency.raw, workloads: WORKLOADS } };
  }
  const throughput = await throughputRows(ctx, quick ? 50_000 : n);
  const latency = await latencyRows(ctx, quick ? 50_000 : n, quick ? 2 : ctx.options.rounds);
  return { rows: [...throughput.rows, ...latency.rows], raw: { throughput: throughput.raw, latency: latency.raw, workloads: WORKLOADS } };
}
