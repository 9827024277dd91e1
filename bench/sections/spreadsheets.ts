/**
 * Spreadsheets alone (section `spreadsheets`): our XLSX and ODS plugins
 * against ExcelJS's streaming workbook writer and reader — the streaming
 * XLSX library measured here before writing ours (issue 12 asked to keep
 * whichever won) — writing N session rows to a file and reading them back,
 * at N/10 and N, each run in a process of its own so its peak RSS is its
 * own. No spreadsheet library on npm streams ODS; the ODS rows compare with
 * our XLSX plugin on the same rows, for scale.
 *
 * Rounds: `pluginRounds` interleaved rounds at N/10, one at N (a million
 * rows through ExcelJS takes about a minute each way).
 */
import { join } from "node:path";
import type { BenchContext } from "../lib/context.js";
import { runWorker, type WorkerResult } from "../lib/processes.js";
import { fmtMb, fmtN, fmtRate, median, type TableRow } from "../lib/report.js";

type Party = "xlsx" | "ods" | "exceljs";
type Operation = "write" | "read";
const PARTIES: Party[] = ["xlsx", "exceljs", "ods"];

export async function spreadsheetRows(ctx: BenchContext): Promise<{ rows: TableRow[]; raw: unknown }> {
  const { n, pluginRounds } = ctx.options;
  const sizes = [Math.round(n / 10), n];
  const samples: Record<string, WorkerResult[]> = {};
  for (const size of sizes) {
    const rounds = size === n ? 1 : pluginRounds;
    ctx.log(`spreadsheets alone: ${size} rows, xlsx / exceljs / ods write then read, ${rounds} round(s)`);
    for (let round = 0; round < rounds; round++) {
      for (const operation of ["write", "read"] as Operation[]) {
        for (const party of PARTIES) {
          // Readers read what our writer wrote (ExcelJS reads our XLSX): the same bytes for both XLSX readers.
          const file = join(ctx.tmp, `sheet-${size}.${party === "ods" ? "ods" : "xlsx"}`);
          const writeTo = party === "exceljs" ? join(ctx.tmp, `sheet-${size}-exceljs.xlsx`) : file;
          const r = await runWorker("bench/workers/spreadsheets.ts", { party, operation, n: size, file: operation === "write" ? writeTo : file });
          if (r.records !== size) throw new Error(`${party} ${operation} handled ${r.records} of ${size} rows`);
          (samples[`${party}-${operation}-${size}`] ??= []).push(r);
          ctx.log(`  ${party} ${operation} ${size}: ${fmtRate((size / r.ms) * 1000, "rows/s")}, peak ${r.rssMb.toFixed(0)} MB`);
        }
      }
    }
  }
  const rate = (key: string) => median(samples[key]!.map((s) => (s.records / s.ms) * 1000));
  const rss = (key: string) => Math.max(...samples[key]!.map((s) => s.rssMb));
  const rows: TableRow[] = [];
  for (const operation of ["write", "read"] as Operation[]) {
    for (const [ours, theirs, label] of [
      ["xlsx", "exceljs", "ExcelJS streaming"],
      ["ods", "xlsx", "our XLSX (no streaming ODS library exists)"],
    ] as const) {
      for (const size of sizes) {
        const a = `${ours}-${operation}-${size}`;
        const b = `${theirs}-${operation}-${size}`;
        rows.push({
          section: "spreadsheets",
          name: `${ours.toUpperCase()} ${operation} (formats/${ours}) at ${fmtN(size)}`,
          n: size,
          rounds: samples[a]!.length,
          ours: `${fmtRate(rate(a), "rows/s")}, peak ${fmtMb(rss(a))}`,
          theirs: `${label} ${fmtRate(rate(b), "rows/s")}, peak ${fmtMb(rss(b))}`,
          ratio: rate(a) / rate(b),
          target: ours === "xlsx" ? "≥ 1.0× (keep what wins)" : "—",
          met: ours === "xlsx" ? rate(a) >= rate(b) : undefined,
          note:
            size === n
              ? `peak RSS at N ÷ N/10: ${(rss(a) / rss(`${ours}-${operation}-${sizes[0]}`)).toFixed(2)}× (ours), ${(rss(b) / rss(`${theirs}-${operation}-${sizes[0]}`)).toFixed(2)}× (${theirs})`
              : undefined,
        });
      }
    }
  }
  return { rows, raw: samples };
}
