/**
 * Section `concurrency`: many jobs at once against one transfer service and
 * one records service — 20 CSV exports and 5 CSV imports started together,
 * each from a client of its own — against one export alone, interleaved in
 * the same rounds, both services fresh for every run. What it reports: each
 * service's peak RSS under the load (the target: under 250 MB, with the
 * 256 MB old-space limit the services run with) and the aggregate rate of
 * all the jobs together against the rate of one job alone.
 *
 * Each export reads the whole `sessions` collection of its own database,
 * `perJob` records; each import writes `perJob` new sessions (keys after the
 * exported ones; the collection is put back before the next run).
 */
import type { BenchContext } from "../lib/context.js";
import { prepareConcurrentJobs } from "../lib/concurrent-setup.js";
import { runWorker } from "../lib/processes.js";
import { fmtMb, fmtRate, type TableRow } from "../lib/report.js";
import { interleave, type Summary, type Variant } from "../lib/rounds.js";
import { withServices } from "./e2e.js";

export const CONCURRENCY_DB = "bench_concurrency";
const EXPORTS = 20;
const IMPORTS = 5;
const RSS_TARGET_MB = 250;

export async function concurrencyRows(ctx: BenchContext): Promise<{ rows: TableRow[]; raw: unknown }> {
  const { n, rounds } = ctx.options;
  const perJob = Math.min(20_000, Math.max(1_000, Math.round(n / 20)));
  ctx.log(`concurrency: seeding ${perJob} sessions and ${IMPORTS} import files of ${perJob} rows`);
  const { files, token, reset } = await prepareConcurrentJobs(ctx, CONCURRENCY_DB, perJob, IMPORTS, "concurrent-import");

  const variant = (id: string, exports: number, imports: typeof files): Variant => ({
    id,
    prepare: reset,
    run: () => withServices(ctx, CONCURRENCY_DB, (url) => runWorker("bench/workers/concurrent-jobs.ts", { url, token, exports, exportRecords: perJob, imports })),
  });
  const variants = [variant("one-export", 1, []), variant("concurrent", EXPORTS, files)];
  ctx.log(`concurrency: ${variants.map((v) => v.id).join(", ")}; ${rounds} round(s)`);
  const s = await interleave(variants, rounds, ctx.log);
  const one = s.get("one-export");
  const many = s.get("concurrent");

  const rows: TableRow[] = [];
  const ok = one && !one.error && many && !many.error;
  rows.push({
    section: "concurrency",
    name: `${EXPORTS} exports + ${IMPORTS} imports at once (CSV, ${perJob} records each): aggregate vs one export alone`,
    n: perJob * (EXPORTS + IMPORTS),
    rounds,
    ours: rate(many),
    theirs: `one export ${rate(one)}`,
    ratio: ok ? many.rps / one.rps : undefined,
    target: "info",
    note: [many?.error && `failed: ${many.error.split("\n")[0]}`, one?.error && `one export failed: ${one.error.split("\n")[0]}`].filter(Boolean).join("; ") || undefined,
  });
  for (const proc of ["transfer", "records"]) {
    const peak = many?.rssMax[proc];
    const alone = one?.rssMax[proc];
    rows.push({
      section: "concurrency",
      name: `peak RSS of ${proc} during ${EXPORTS} exports + ${IMPORTS} imports`,
      n: perJob * (EXPORTS + IMPORTS),
      rounds,
      ours: peak !== undefined ? fmtMb(peak) : "not measured",
      theirs: `one export ${alone !== undefined ? fmtMb(alone) : "?"}`,
      ratio: peak !== undefined && alone ? peak / alone : undefined,
      target: `< ${RSS_TARGET_MB} MB`,
      met: peak === undefined ? undefined : peak < RSS_TARGET_MB,
    });
  }
  return { rows, raw: Object.fromEntries(s) };
}

function rate(s: Summary | undefined): string {
  if (!s) return "not run";
  if (s.error) return "FAILED";
  return `${fmtRate(s.rps)}, ${s.mbps.toFixed(1)} MB/s`;
}
