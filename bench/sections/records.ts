/**
 * Records level: client → records service → database, with our plugins in
 * the client process. Useful on its own (it is the records service plus the
 * wire plus the plugin, without the transfer service) and as the reference
 * that tells how much the transfer hop costs.
 */
import { join } from "node:path";
import { EXPORT_DB, IMPORT_DB, resetImportSessions, startRecords, type BenchContext } from "../lib/context.js";
import { runWorker } from "../lib/processes.js";
import type { Sample, Variant } from "../lib/rounds.js";

export function recordsExport(ctx: BenchContext, format: "csv" | "ndjson", limit?: number): Variant {
  return {
    id: `records-export-${format}${limit ? `-${limit}` : ""}`,
    async run(): Promise<Sample> {
      const records = await startRecords(ctx, EXPORT_DB);
      try {
        const r = await runWorker("bench/workers/records-export.ts", { url: records.url, format, out: join(ctx.tmp, `records.${format}`), limit });
        return { records: r.records, bytes: r.bytes, ms: r.ms, rss: { records: records.peakRssMb(), client: r.rssMb }, cpu: { records: records.workCpuMs(), client: r.cpuMs } };
      } finally {
        await records.stop();
      }
    },
  };
}

/**
 * An import through the records service into an empty sessions collection.
 * In upsert mode every batch first looks its keys up (one `$in`, a full scan
 * on FerretDB-SQLite) and then inserts. Upserts over existing keys are not
 * measured: FerretDB 1.24-SQLite takes ~20 ms per replaceOne and a bulkWrite
 * of 100 of them did not finish in 15 s here (see bench/README.md).
 */
export function recordsImport(ctx: BenchContext, mode: "insert" | "upsert", file: string, rows: number, id = `records-import-${mode}`): Variant {
  return {
    id,
    prepare: () => resetImportSessions(ctx),
    async run(): Promise<Sample> {
      const records = await startRecords(ctx, IMPORT_DB);
      try {
        const r = await runWorker("bench/workers/records-import.ts", { url: records.url, file, mode });
        const c = r.extra as { inserted: number; updated: number; unchanged: number; failed: number };
        const written = mode === "insert" ? c.inserted : c.updated + c.inserted;
        if (written !== rows) throw new Error(`records import (${mode}) wrote ${written} of ${rows} rows: ${JSON.stringify(c)}`);
        return { records: r.records, bytes: r.bytes, ms: r.ms, rss: { records: records.peakRssMb(), client: r.rssMb }, cpu: { records: records.workCpuMs(), client: r.cpuMs }, extra: c };
      } finally {
        await records.stop();
      }
    },
  };
}
