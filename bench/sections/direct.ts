/** The direct baselines: one process, the mongodb driver and the csv libraries, nothing of ours. */
import { join } from "node:path";
import { EXPORT_DB, IMPORT_DB, resetImportSessions, type BenchContext } from "../lib/context.js";
import { runWorker } from "../lib/processes.js";
import type { Variant } from "../lib/rounds.js";

export function directExport(ctx: BenchContext): Variant {
  return {
    id: "direct-export",
    async run() {
      const r = await runWorker("bench/workers/direct-export.ts", { uri: ctx.uri, database: EXPORT_DB, out: join(ctx.tmp, "direct.csv") });
      return { records: r.records, bytes: r.bytes, ms: r.ms, rss: { baseline: r.rssMb }, cpu: { baseline: r.cpuMs } };
    },
  };
}

export function directImport(ctx: BenchContext, file: string, id = "direct-import"): Variant {
  return {
    id,
    prepare: () => resetImportSessions(ctx),
    async run() {
      const r = await runWorker("bench/workers/direct-import.ts", { uri: ctx.uri, database: IMPORT_DB, file });
      const extra = r.extra as { inserted: number; invalid: number; failed: number };
      if (extra.inserted !== r.records) throw new Error(`baseline import inserted ${extra.inserted} of ${r.records} rows (${extra.invalid} invalid, ${extra.failed} failed)`);
      return { records: r.records, bytes: r.bytes, ms: r.ms, rss: { baseline: r.rssMb }, cpu: { baseline: r.cpuMs }, extra };
    },
  };
}
