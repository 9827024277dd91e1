/**
 * `npm run bench` / `npm run bench:quick`: measures export and import on a
 * real FerretDB against direct baselines, in one run, interleaved, and prints one table (also written as JSON under
 * bench/results/). Nothing here asserts: targets are reported, not enforced.
 *
 *   tsx bench/run.ts [--quick] [--n 1000000] [--rounds 3] [--upsert-n 20000]
 *                    [--only plugins,spreadsheets,workers,workers-service,export,import,upsert,reimport,memory,e2e,records,concurrency]
 *                    [--reimport-n 20000] [--changed-n 1000]
 *                    [--backend sqlite|postgresql --postgresql-url URL] [--cpu-prof]
 *                    [--service-flags="--max-old-space-size=512"]  (node flags of our service processes, after `npm start`'s)
 *                    [--records-flags="…"] [--transfer-flags="…"]    (of one of them only)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MongoClient } from "mongodb";
import { startFerretDb } from "../scripts/lib/ferretdb.js";
import { serviceNodeFlags } from "../scripts/lib/service-node-flags.js";
import { seedReferences, seedSessions, writeSessionsCsv } from "./lib/data.js";
import { createRecordsIndexes, EXPORT_DB, IMPORT_DB, type BenchContext, type BenchOptions } from "./lib/context.js";
import { REPO } from "./lib/processes.js";
import { renderTable, writeResults, type TableRow } from "./lib/report.js";
import { pluginRows } from "./sections/plugins.js";
import { databaseRows } from "./sections/database.js";
import { formatWorkerRows } from "./sections/format-workers.js";
import { spreadsheetRows } from "./sections/spreadsheets.js";
import { concurrencyRows } from "./sections/concurrency.js";
import { reimportRows } from "./sections/reimport.js";

/** `records` (the records-level rows) is in every full run; quick runs add it only when asked. */
const ALL = ["plugins", "spreadsheets", "workers", "export", "import", "upsert", "reimport", "memory", "e2e", "concurrency"];
/** Every section `--only` accepts. */
const KNOWN = new Set([...ALL, "workers-service", "records"]);

function parseOptions(argv: string[]): BenchOptions {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  };
  const quick = argv.includes("--quick");
  const n = Number(get("n") ?? (quick ? 100_000 : 1_000_000));
  const rounds = Number(get("rounds") ?? (quick ? 1 : 3));
  const only = get("only");
  const unknown = only?.split(",").filter((s) => !KNOWN.has(s)) ?? [];
  if (unknown.length > 0) throw new Error(`--only: unknown section(s) ${unknown.join(", ")}; known: ${[...KNOWN].join(", ")}`);
  return {
    n,
    rounds,
    pluginRounds: Math.max(3, rounds),
    // New keys in upsert mode cost what inserts do (sent as inserts first), so the same N.
    upsertN: Number(get("upsert-n") ?? n),
    // Re-imports of stored keys: the unchanged rows at 20k (before the stored fingerprints each batch's
    // look-up was a full scan, so the "before" run is quadratic); changed rows at 1k, bound by FerretDB's
    // per-record replacement (bench/README.md, "Re-imports").
    reimportN: Number(get("reimport-n") ?? Math.min(n, 20_000)),
    changedN: Number(get("changed-n") ?? Math.min(n, 1_000)),
    quick,
    sections: new Set(only ? only.split(",") : ALL),
    backend: (get("backend") as "sqlite" | "postgresql") ?? "sqlite",
    postgresqlUrl: get("postgresql-url"),
    serviceFlags: [
      ...(argv.includes("--cpu-prof") ? ["--cpu-prof", `--cpu-prof-dir=${join(REPO, "bench/results/profiles")}`] : []),
      // The flags `npm start` runs the services with; later flags (--service-flags) win.
      ...serviceNodeFlags(),
      ...(get("service-flags")?.split(" ").filter(Boolean) ?? []),
    ],
    recordsFlags: get("records-flags")?.split(" ").filter(Boolean) ?? [],
    transferFlags: get("transfer-flags")?.split(" ").filter(Boolean) ?? [],
    resultsDir: join(REPO, "bench/results"),
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const started = Date.now();
  const log = (m: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}\n`);
  const tmp = mkdtempSync(join(tmpdir(), "dx-bench-"));
  log(`N=${options.n}, DB rounds=${options.rounds}, plugin rounds=${options.pluginRounds}, upsert N=${options.upsertN}, sections: ${[...options.sections].join(",")}; FerretDB ${options.backend} in ${tmp}`);
  const ferret = await startFerretDb({ dataDir: join(tmp, "ferretdb"), backend: options.backend, postgresqlUrl: options.postgresqlUrl });
  const client = new MongoClient(ferret.uri);
  await client.connect();
  const ctx: BenchContext = {
    options,
    uri: ferret.uri,
    client,
    exportDb: client.db(EXPORT_DB),
    importDb: client.db(IMPORT_DB),
    tmp,
    files: { csvN: join(tmp, "sessions-n.csv"), csvTenth: join(tmp, "sessions-tenth.csv"), csvUpsert: join(tmp, "sessions-upsert.csv") },
    log,
  };
  const rows: TableRow[] = [];
  const raw: Record<string, unknown> = {};
  try {
    if (options.sections.has("plugins")) {
      const p = await pluginRows(ctx);
      rows.push(...p.rows);
      raw.plugins = p.raw;
    }
    if (options.sections.has("spreadsheets")) {
      const x = await spreadsheetRows(ctx);
      rows.push(...x.rows);
      raw.spreadsheets = x.raw;
    }
    if (options.sections.has("workers") || options.sections.has("workers-service")) {
      const w = await formatWorkerRows(ctx, !options.sections.has("workers"));
      rows.push(...w.rows);
      raw.formatWorkers = w.raw;
    }
    const needsDb = ["export", "import", "upsert", "memory", "e2e"].some((s) => options.sections.has(s));
    if (options.sections.has("reimport") && !needsDb) {
      log("seeding: the users and courses sessions reference");
      await createRecordsIndexes(ctx.importDb);
      await seedReferences(ctx.importDb);
    }
    if (needsDb) {
      log(`seeding: ${options.n} sessions (direct insertMany) and the CSV files`);
      await createRecordsIndexes(ctx.exportDb);
      await createRecordsIndexes(ctx.importDb);
      await seedReferences(ctx.exportDb);
      await seedReferences(ctx.importDb);
      await Promise.all([
        seedSessions(ctx.exportDb, options.n),
        writeSessionsCsv(ctx.files.csvN, options.n),
        writeSessionsCsv(ctx.files.csvTenth, Math.round(options.n / 10)),
        writeSessionsCsv(ctx.files.csvUpsert, options.upsertN, 1),
      ]);
      log("seeded");
      const d = await databaseRows(ctx);
      rows.push(...d.rows);
      raw.database = d.raw;
    }
    if (options.sections.has("reimport")) {
      const r = await reimportRows(ctx);
      rows.push(...r.rows);
      raw.reimport = r.raw;
    }
    if (options.sections.has("concurrency")) {
      const c = await concurrencyRows(ctx);
      rows.push(...c.rows);
      raw.concurrency = c.raw;
    }
  } finally {
    await client.close();
    await ferret.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  const elapsed = (Date.now() - started) / 1000;
  const table = renderTable(rows);
  const what = `N=${options.n}${options.quick ? " (quick)" : ""}; rounds: ${options.rounds} for database rows, ${options.pluginRounds} for plugins; upsert at N=${options.upsertN}; FerretDB ${options.backend}; ${elapsed.toFixed(0)} s`;
  const scope = options.quick
    ? "quick run: plugins (3 rounds); format workers at 50k (plugins 3 rounds, service under load 2 rounds); end-to-end CSV export, CSV import (insert, upsert), flat memory, re-imports of stored keys (20k unchanged, 1k changed) and a 20-row dry run against 30k users, 20 exports + 5 imports at once (N/20 records each); 1 round each, so database ratios are single samples, not medians. NDJSON export and the records-level rows run in full runs (or add --only …,records)."
    : "";
  process.stdout.write(`\n${what}\n${scope ? `${scope}\n` : ""}\n${table}\n\nratio = ours ÷ reference (higher is better), except memory rows: peak at N ÷ peak at N/10, and concurrency RSS rows: peak under load ÷ peak with one export.\n`);
  const path = writeResults(options.resultsDir, { what, scope, options: { ...options, sections: [...options.sections] }, node: process.version, date: new Date().toISOString(), elapsedSeconds: elapsed, rows, raw });
  process.stdout.write(`results: ${path}\n`);
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
