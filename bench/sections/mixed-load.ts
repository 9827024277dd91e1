/**
 * Section `mixed-load` (issue 17, goal 5): 8 CSV exports and 4 CSV imports
 * of `perJob` records each (100k at N ≥ 100k), all at once against one
 * transfer service and one records service, each job from a client of its
 * own; in the same rounds, one export alone and one import alone against
 * fresh services. Reported: the aggregate rate of the twelve jobs against
 * one job alone, and `Health.Check` latency of both services during the
 * load (p50 / p99 / max), probed on connections of their own, from
 * processes of their own, with a pause between calls (`--probe-every-ms`,
 * 100 by default: a call costs each side 1.4–2 ms of CPU on these machines,
 * and at 10 ms the probes took a third of the jobs' throughput), target
 * p99 < 50 ms, with the idle latency for scale. `--colocated-nice` runs
 * FerretDB and the jobs' clients at a lower priority, as stand-ins for
 * machines of their own (bench/lib/priority.ts).
 *
 * Exports ask for `perJob` records (a limit), since the imports add sessions
 * to the collection they read; each import writes `perJob` new sessions
 * (keys after the exported ones; the collection is put back before each run).
 *
 * Both services run with bench/lib/event-loop-probe.mjs, so each run also
 * says how long their event loops were kept from turning (delay p99, max,
 * and how busy they were): a slow Health.Check is either that, or a process
 * the machine gave no core — and, from the kernel's account of the main
 * thread during the loop's stalls, which of the two it was.
 */
import type { BenchContext } from "../lib/context.js";
import { prepareConcurrentJobs } from "../lib/concurrent-setup.js";
import { lowerPriority } from "../lib/priority.js";
import { EVENT_LOOP_PROBE_FLAGS, runWorker } from "../lib/processes.js";
import { fmtMb, fmtRate, type TableRow } from "../lib/report.js";
import { interleave, type Summary, type Variant } from "../lib/rounds.js";
import { withServices, type EventLoopFigures } from "./e2e.js";
import type { HealthProbes } from "../workers/concurrent-jobs.js";

export const MIXED_LOAD_DB = "bench_mixed_load";
const EXPORTS = 8;
const IMPORTS = 4;
const P99_TARGET_MS = 50;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const ms = (v: number) => (Number.isFinite(v) ? `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ms` : "n/a");

export async function mixedLoadRows(ctx: BenchContext): Promise<{ rows: TableRow[]; raw: unknown }> {
  const { n, rounds } = ctx.options;
  const perJob = Math.min(100_000, n);
  ctx.log(`mixed load: seeding ${perJob} sessions and ${IMPORTS} import files of ${perJob} rows`);
  const { files, token, reset } = await prepareConcurrentJobs(ctx, MIXED_LOAD_DB, perJob, IMPORTS, "mixed-import");

  const { colocatedNice } = ctx.options;
  // The services with the event-loop probe loaded (bench/lib/event-loop-probe.mjs).
  const probed: BenchContext = { ...ctx, options: { ...ctx.options, serviceFlags: [...ctx.options.serviceFlags, ...EVENT_LOOP_PROBE_FLAGS] } };
  const variant = (id: string, exports: number, imports: typeof files, probe: boolean): Variant => ({
    id,
    prepare: reset,
    run: () =>
      withServices(probed, MIXED_LOAD_DB, (url, recordsUrl) =>
        runWorker("bench/workers/concurrent-jobs.ts", {
          url,
          token,
          exports,
          exportRecords: perJob,
          imports,
          ...(probe ? { probeEveryMs: ctx.options.probeEveryMs, recordsUrl } : {}),
          ...(colocatedNice > 0 ? { jobsNice: colocatedNice } : {}),
        }),
      ),
  });
  const variants = [variant("one-export", 1, [], true), variant("one-import", 0, files.slice(0, 1), true), variant("mixed", EXPORTS, files, true)];
  ctx.log(`mixed load: ${variants.map((v) => v.id).join(", ")}; ${rounds} round(s), ${perJob} records a job`);
  if (colocatedNice > 0) {
    const postgres = ctx.options.backend === "postgresql" ? " (PostgreSQL's own processes keep theirs)" : "";
    ctx.log(`mixed load: FerretDB (pid ${ctx.databasePid})${postgres} and the job clients at nice ${colocatedNice}, the services and the probers at their usual priority`);
  }
  const restorePriority = colocatedNice > 0 ? lowerPriority(ctx.databasePid, colocatedNice) : undefined;
  let s: Awaited<ReturnType<typeof interleave>>;
  try {
    s = await interleave(variants, rounds, ctx.log);
  } finally {
    const refused = restorePriority?.();
    if (refused) ctx.log(`mixed load: ${refused}`);
  }
  const oneExport = s.get("one-export");
  const oneImport = s.get("one-import");
  const mixed = s.get("mixed");

  const rows: TableRow[] = [];
  const ok = (x: Summary | undefined): x is Summary => x !== undefined && !x.error;
  const name = `${EXPORTS} exports + ${IMPORTS} imports at once (CSV, ${perJob} records each)`;
  rows.push({
    section: "mixed load",
    name: `${name}: aggregate vs one export alone`,
    n: perJob * (EXPORTS + IMPORTS),
    rounds,
    ours: rate(mixed),
    theirs: `one export ${rate(oneExport)}`,
    ratio: ok(mixed) && ok(oneExport) ? mixed.rps / oneExport.rps : undefined,
    target: "info",
    note:
      [
        ok(mixed) && ok(oneImport) ? `one import alone ${rate(oneImport)} (aggregate ÷ it ${(mixed.rps / oneImport.rps).toFixed(2)}×)` : undefined,
        ok(mixed)
          ? `peak RSS ${Object.entries(mixed.rssMax)
              .map(([k, v]) => `${k} ${fmtMb(v)}`)
              .join(", ")}`
          : undefined,
        ok(mixed) && Object.keys(mixed.cpuUsPerRecord).length > 0
          ? `CPU µs/record ${Object.entries(mixed.cpuUsPerRecord)
              .map(([k, v]) => `${k} ${v.toFixed(0)}`)
              .join(", ")}`
          : undefined,
        mixed?.error && `failed: ${mixed.error.split("\n")[0]}`,
        oneExport?.error && `one export failed: ${oneExport.error.split("\n")[0]}`,
        oneImport?.error && `one import failed: ${oneImport.error.split("\n")[0]}`,
      ]
        .filter(Boolean)
        .join("; ") || undefined,
  });
  for (const service of ["transfer", "records"]) {
    const busy = pooled(mixed, "busy", service);
    const alone = [...pooled(oneExport, "busy", service), ...pooled(oneImport, "busy", service)];
    const idle = pooled(mixed, "idle", service);
    const p99 = percentile(busy, 99);
    rows.push({
      section: "mixed load",
      name: `${service} Health.Check during the ${EXPORTS + IMPORTS} jobs (every ${ctx.options.probeEveryMs} ms, own connection${colocatedNice > 0 ? `; FerretDB and job clients at nice ${colocatedNice}` : ""})`,
      n: perJob * (EXPORTS + IMPORTS),
      rounds,
      ours: `p50 ${ms(percentile(busy, 50))}, p99 ${ms(p99)}, max ${ms(Math.max(...busy))}`,
      theirs: `one job alone p50 ${ms(percentile(alone, 50))}, p99 ${ms(percentile(alone, 99))}`,
      target: `p99 < ${P99_TARGET_MS} ms`,
      met: busy.length > 0 ? p99 < P99_TARGET_MS : undefined,
      note: `${busy.length} calls under load; idle p50 ${ms(percentile(idle, 50))}, p99 ${ms(percentile(idle, 99))}; p99 of each round ${samplesOf(mixed)
        .map((p) => ms(percentile(p.busy[service] ?? [], 99)))
        .join(", ")}; event loop under load (each round): ${loopsOf(mixed, service)}; one job alone: ${loopsOf(oneExport, service)} (export), ${loopsOf(oneImport, service)} (import)`,
    });
  }
  return { rows, raw: Object.fromEntries(s) };
}

/** The event-loop figures of one service in each round: delay p99 / max, and the share of the time the loop was busy. */
function loopsOf(s: Summary | undefined, service: string): string {
  const figures = (s?.samples ?? []).map((x) => (x.extra as { eventLoop?: Record<string, EventLoopFigures | undefined> } | undefined)?.eventLoop?.[service]);
  const known = figures.filter((f): f is EventLoopFigures => f !== undefined);
  if (known.length === 0) return "not measured";
  return known.map((f) => `delay p99 ${ms(f.p99Ms)}, max ${ms(f.maxMs)}, busy ${(f.utilization * 100).toFixed(0)} %${stallsOf(f)}`).join("; ");
}

/**
 * Where the loop's stalls went (bench/lib/event-loop-probe.mjs): the share of
 * their time the main thread ran (the service's own work) and waited for a
 * core (the machine's other processes). The first says what the service could
 * shorten; the second, what only fewer processes per core would.
 */
function stallsOf(f: EventLoopFigures): string {
  if (f.stalls === undefined || !f.stalledMs) return "";
  const share = (part = 0) => `${Math.round((part / f.stalledMs!) * 100)} %`;
  return `, ${f.stalls} stalls ≥ 20 ms (${(f.stalledMs / 1000).toFixed(1)} s): ${share(f.stalledRunningMs)} running, ${share(f.stalledWaitingMs)} waiting for a core`;
}

function samplesOf(s: Summary | undefined): HealthProbes[] {
  return (s?.samples ?? []).map((x) => (x.extra as { probes?: HealthProbes } | undefined)?.probes).filter((p): p is HealthProbes => p !== undefined);
}

/** Every probe of every round of one service, idle or under load. */
function pooled(s: Summary | undefined, when: "idle" | "busy", service: string): number[] {
  return samplesOf(s).flatMap((p) => p[when][service] ?? []);
}

function rate(s: Summary | undefined): string {
  if (!s) return "not run";
  if (s.error) return "FAILED";
  return `${fmtRate(s.rps)}, ${s.mbps.toFixed(1)} MB/s`;
}
