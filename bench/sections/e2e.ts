/**
 * End to end: client → transfer service → records service → database, each
 * its own process, both services started fresh for every measured run.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { EXPORT_DB, IMPORT_DB, resetImportSessions, startRecords, type BenchContext } from "../lib/context.js";
import { REPO, runWorker, startService, type Service } from "../lib/processes.js";
import type { Sample, Variant } from "../lib/rounds.js";

/** Extra parties a phase can run beside the baselines. */
export interface Parties {
  available: boolean;
  label?: string;
  why?: string;
  exportVariants?: () => Variant[];
  importVariants?: (mode: "insert" | "upsert", file: string, rows: number) => Variant[];
  memoryVariants?: (tenth: number) => Variant[];
}

let transferDbs = 0;

/**
 * A transfer service on its own fresh database each time: its job store
 * creates several indexes in one createIndexes command at start, which
 * FerretDB 1.24 cannot repeat over existing indexes (see records-main.ts).
 */
function startTransfer(ctx: BenchContext, recordsUrl: string): Promise<Service> {
  return startService({
    name: "transfer",
    entry: "services/transfer/server.ts",
    env: {
      MONGODB_URI: ctx.uri,
      TRANSFER_DATABASE: `bench_transfer_${++transferDbs}`,
      TRANSFER_PORT: "0",
      TRANSFER_HOST: "127.0.0.1",
      TRANSFER_RECORDS_URL: recordsUrl,
      TRANSFER_IMPORT_MAX_FILE_MB: "100000",
    },
    ready: /listening on (http:\/\/[^\s]+)/,
    nodeFlags: ctx.options.serviceFlags,
  });
}

async function withServices(ctx: BenchContext, database: string, work: (transferUrl: string) => Promise<Omit<Sample, "rss"> & { rssMb: number }>): Promise<Sample> {
  const records = await startRecords(ctx, database);
  let transfer: Service | undefined;
  try {
    transfer = await startTransfer(ctx, records.url);
    const r = await work(transfer.url);
    return { records: r.records, bytes: r.bytes, ms: r.ms, extra: r.extra, rss: { transfer: transfer.peakRssMb(), records: records.peakRssMb(), client: r.rssMb } };
  } finally {
    await transfer?.stop();
    await records.stop();
  }
}

function e2eExport(ctx: BenchContext, format: "csv" | "ndjson", limit?: number): Variant {
  return {
    id: `e2e-export-${format}${limit ? `-${limit}` : ""}`,
    run: () => withServices(ctx, EXPORT_DB, (url) => runWorker("bench/workers/e2e-export.ts", { url, format, out: join(ctx.tmp, `e2e.${format}`), limit })),
  };
}

function e2eImport(ctx: BenchContext, mode: "insert" | "upsert", file: string, rows: number, id = `e2e-import-${mode}`): Variant {
  return {
    id,
    prepare: () => resetImportSessions(ctx),
    run: () =>
      withServices(ctx, IMPORT_DB, async (url) => {
        const r = await runWorker("bench/workers/e2e-import.ts", { url, file, mode });
        const s = r.extra as { inserted: number; updated: number; failed: number; rowErrors: number; firstError?: string };
        if (s.inserted + s.updated !== rows) throw new Error(`end-to-end import (${mode}) wrote ${s.inserted + s.updated} of ${rows} rows: ${JSON.stringify(s)}`);
        return r;
      }),
  };
}

export async function e2eParties(ctx: BenchContext): Promise<Parties> {
  void ctx;
  if (!existsSync(join(REPO, "services/transfer/server.ts"))) {
    return { available: false, label: "end to end", why: "services/transfer/server.ts does not exist yet: the end-to-end rows are not measurable in this run" };
  }
  return {
    available: true,
    label: "end to end",
    exportVariants: () => [e2eExport(ctx, "csv"), e2eExport(ctx, "ndjson")],
    importVariants: (mode, file, rows) => [e2eImport(ctx, mode, file, rows)],
    memoryVariants: (tenth) => [e2eExport(ctx, "csv", tenth), e2eImport(ctx, "insert", ctx.files.csvTenth, tenth, "e2e-import-insert-tenth")],
  };
}
