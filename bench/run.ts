/**
 * `npm run bench` / `npm run bench:quick`: measures export and import on a
 * real FerretDB against direct baselines, in one run, interleaved, and prints one table (also written as JSON under
 * bench/results/). Nothing here asserts: targets are reported, not enforced.
 *
 *   tsx bench/run.ts [--quick] [--n 1000000] [--rounds 3] [--upsert-n 20000]
 *                    [--only startup,plugins,spreadsheets,workers,workers-service,export,import,upsert,reimport,memory,e2e,records,concurrency,mixed-load]
 *                    [--reimport-n 20000] [--changed-n 1000] [--corrected-n 5000] [--reimport-rows ri-upsert-unchanged,users-dry-runs]  (some re-import rows only, with their insert)
 *                    [--backend sqlite|postgresql --postgresql-url URL] [--cpu-prof] [--alloc-prof]
 *                    [--service-flags="--max-old-space-size=512"]  (node flags of our service processes, after `npm start`'s)
 *                    [--records-flags="…"] [--transfer-flags="…"]    (of one of them only)
 *                    [--from-source]  (services from their TypeScript under tsx, not the compiled build)
 *                    [--probe-every-ms 100]  (pause between the mixed load's Health.Check probes)
 *                    [--colocated-nice 10]   (FerretDB and the job clients at this nice value during the mixed load)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
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
import { mixedLoadRows } from "./sections/mixed-load.js";
import { REIMPORT_ROWS, reimportRows } from "./sections/reimport.js";
import { startupRows } from "./sections/startup.js";

/** `records` (the records-level rows) is in every full run; quick runs add it only when asked. */
const ALL = ["startup", "plugins", "spreadsheets", "workers", "export", "import", "upsert", "reimport", "memory", "e2e", "concurrency", "mixed-load"];

/** Every section `--only` may name: ALL, and those only run when asked (`records` in quick runs, `workers-service`). */
const SECTIONS = [...ALL, "records", "workers-service"];

/**
 * The mixed load's default pause between Health.Check probes. Each call costs
 * the service 1.4–2 ms of CPU here and its prober as much; probing every 10 ms
 * took a third of the twelve jobs' throughput on 2 cores (bench/README.md,
 * "Mixed load: what the probes cost"). 100 ms still gives ~1,400 calls a
 * service at 100k records a job.
 */
const PROBE_EVERY_MS = 100;

/** A whole number ≥ 1 from a flag, or an error naming the flag. */
function count(flag: string, value: string | undefined, fallback: number): number {
  return wholeNumber(flag, value, fallback, 1);
}

/** A nice value from `--colocated-nice`: 0 (the default, nothing changed) to 19. */
function niceness(value: string | undefined): number {
  return wholeNumber("colocated-nice", value, 0, 0, 19);
}

/** A whole number from `min` (to `max`, where given) from a flag, `fallback` when absent, or an error naming the flag and the range. */
function wholeNumber(flag: string, value: string | undefined, fallback: number, min: number, max?: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || (max !== undefined && n > max)) {
    throw new Error(`--${flag} must be a whole number ${max === undefined ? `≥ ${min}` : `from ${min} to ${max}`}, not ${JSON.stringify(value)}`);
  }
  return n;
}

/** The command line, read with node:util parseArgs: an unknown flag or a bad value is an error, not silently ignored. */
function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: "boolean", default: false },
      n: { type: "string" },
      rounds: { type: "string" },
      "upsert-n": { type: "string" },
      "reimport-n": { type: "string" },
      "changed-n": { type: "string" },
      "corrected-n": { type: "string" },
      "reimport-rows": { type: "string" },
      only: { type: "string" },
      backend: { type: "string", default: "sqlite" },
      "postgresql-url": { type: "string" },
      "cpu-prof": { type: "boolean", default: false },
      "alloc-prof": { type: "boolean", default: false },
      "service-flags": { type: "string" },
      "records-flags": { type: "string" },
      "transfer-flags": { type: "string" },
      "from-source": { type: "boolean", default: false },
      "probe-every-ms": { type: "string" },
      "colocated-nice": { type: "string" },
    },
  });
  const quick = values.quick;
  const n = count("n", values.n, quick ? 100_000 : 1_000_000);
  const rounds = count("rounds", values.rounds, quick ? 1 : 3);
  const only = values.only
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = only?.filter((s) => !SECTIONS.includes(s)) ?? [];
  if (unknown.length > 0) throw new Error(`--only names unknown section${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; known: ${SECTIONS.join(", ")}`);
  const chosenReimportRows = values["reimport-rows"]
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const unknownRows = chosenReimportRows?.filter((r) => !REIMPORT_ROWS.includes(r)) ?? [];
  if (unknownRows.length > 0 || chosenReimportRows?.length === 0)
    throw new Error(
      `--reimport-rows ${unknownRows.length > 0 ? `names unknown row${unknownRows.length > 1 ? "s" : ""} ${unknownRows.join(", ")}` : "names no row"}; known: ${REIMPORT_ROWS.join(", ")}`,
    );
  if (chosenReimportRows && only && only.length > 0 && !only.includes("reimport")) throw new Error("--reimport-rows chooses rows of the reimport section, which --only leaves out");
  if (values.backend !== "sqlite" && values.backend !== "postgresql") throw new Error(`--backend must be sqlite or postgresql, not ${JSON.stringify(values.backend)}`);
  return {
    n,
    rounds,
    pluginRounds: Math.max(3, rounds),
    // New keys in upsert mode cost what inserts do (sent as inserts first), so the same N.
    upsertN: count("upsert-n", values["upsert-n"], n),
    // Re-imports of stored keys: the unchanged rows at 20k (before the stored fingerprints each batch's
    // look-up was a full scan, so the "before" run is quadratic); changed rows at 1k, bound by FerretDB's
    // per-record replacement (bench/README.md, "Re-imports").
    reimportN: count("reimport-n", values["reimport-n"], Math.min(n, 20_000)),
    changedN: count("changed-n", values["changed-n"], Math.min(n, 1_000)),
    // A corrected file's changed rows are looked up a batch at a time: a scan of the collection each on FerretDB.
    correctedN: count("corrected-n", values["corrected-n"], Math.min(n, 5_000)),
    ...(chosenReimportRows ? { reimportRows: new Set(chosenReimportRows) } : {}),
    quick,
    sections: new Set(only && only.length > 0 ? only : ALL),
    backend: values.backend,
    postgresqlUrl: values["postgresql-url"],
    serviceFlags: [
      ...(values["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${join(REPO, "bench/results/profiles")}`] : []),
      // What each service allocates, freed or not (bench/lib/allocation-sampling.cjs; summarise with bench/allocation-summary.ts).
      ...(values["alloc-prof"] ? ["--require", join(REPO, "bench/lib/allocation-sampling.cjs")] : []),
      // The flags `npm start` runs the services with; later flags (--service-flags) win.
      ...serviceNodeFlags(),
      ...(values["service-flags"]?.split(" ").filter(Boolean) ?? []),
    ],
    recordsFlags: values["records-flags"]?.split(" ").filter(Boolean) ?? [],
    transferFlags: values["transfer-flags"]?.split(" ").filter(Boolean) ?? [],
    fromSource: values["from-source"],
    probeEveryMs: count("probe-every-ms", values["probe-every-ms"], PROBE_EVERY_MS),
    colocatedNice: niceness(values["colocated-nice"]),
    resultsDir: join(REPO, "bench/results"),
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const started = Date.now();
  const log = (m: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}\n`);
  const tmp = mkdtempSync(join(tmpdir(), "dx-bench-"));
  log(
    `N=${options.n}, DB rounds=${options.rounds}, plugin rounds=${options.pluginRounds}, upsert N=${options.upsertN}, sections: ${[...options.sections].join(",")}; FerretDB ${options.backend} in ${tmp}`,
  );
  const ferret = await startFerretDb({ dataDir: join(tmp, "ferretdb"), backend: options.backend, postgresqlUrl: options.postgresqlUrl });
  const client = new MongoClient(ferret.uri);
  await client.connect();
  // SQLite's databases live in this run's folder; PostgreSQL's outlive the run, and a second run would seed on top of the first's.
  for (const { name } of (await client.db().admin().listDatabases({ nameOnly: true })).databases) if (name.startsWith("bench_")) await client.db(name).dropDatabase();
  const ctx: BenchContext = {
    options,
    uri: ferret.uri,
    databasePid: ferret.pid,
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
    if (options.sections.has("startup")) {
      const s = await startupRows(ctx);
      rows.push(...s.rows);
      raw.startup = s.raw;
    }
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
    if (options.sections.has("mixed-load")) {
      const m = await mixedLoadRows(ctx);
      rows.push(...m.rows);
      raw.mixedLoad = m.raw;
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
    ? "quick run: plugins (3 rounds); format workers at 50k (plugins 3 rounds, service under load 2 rounds); end-to-end CSV export, CSV import (insert, upsert), flat memory, re-imports of stored keys (20k unchanged, 1k changed, 5k corrected) and a 20-row dry run against 30k users, 20 exports + 5 imports at once (N/20 records each); 1 round each, so database ratios are single samples, not medians. NDJSON export and the records-level rows run in full runs (or add --only …,records)."
    : "";
  process.stdout.write(
    `\n${what}\n${scope ? `${scope}\n` : ""}\n${table}\n\nratio = ours ÷ reference (higher is better), except memory rows: peak at N ÷ peak at N/10, concurrency RSS rows: peak under load ÷ peak with one export, and startup rows: compiled ÷ tsx (lower is better).\n`,
  );
  const path = writeResults(options.resultsDir, {
    what,
    scope,
    options: { ...options, sections: [...options.sections] },
    node: process.version,
    date: new Date().toISOString(),
    elapsedSeconds: elapsed,
    rows,
    raw,
  });
  process.stdout.write(`results: ${path}\n`);
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
