/** Plugins alone: the CSV plugin against raw csv-stringify / csv-parse, no network, no database. */
import type { BenchContext } from "../lib/context.js";
import { runWorker } from "../lib/processes.js";
import { fmtRate, median, type TableRow } from "../lib/report.js";

export async function pluginRows(ctx: BenchContext): Promise<{ rows: TableRow[]; raw: unknown }> {
  const { n, pluginRounds } = ctx.options;
  ctx.log(`plugins alone: ${n} rows, ${pluginRounds} interleaved rounds`);
  const r = await runWorker("bench/workers/plugins.ts", { n, rounds: pluginRounds });
  const samples = (r.extra as { samples: Record<string, { ms: number }[]> }).samples;
  const rate = (id: string) => median(samples[id]!.map((s) => (n / s.ms) * 1000));
  const row = (name: string, ours: string, theirs: string, lib: string): TableRow => {
    const ratio = rate(ours) / rate(theirs);
    return { section: "plugins", name, n, rounds: pluginRounds, ours: fmtRate(rate(ours), "rows/s"), theirs: `${lib} ${fmtRate(rate(theirs), "rows/s")}`, ratio, target: "≥ 0.9×", met: ratio >= 0.9 };
  };
  return {
    rows: [row("CSV write (formats/csv via _sdk)", "plugin-write", "raw-write", "csv-stringify"), row("CSV read (formats/csv via _sdk)", "plugin-read", "raw-read", "csv-parse")],
    raw: r,
  };
}
