/**
 * Re-imports of stored keys, end to end (client → transfer → records → db),
 * each against an insert of the same file into an empty collection in the
 * same interleaved rounds: upsert, merge and skip-existing of a file whose
 * rows are all stored as they are, strict and dry runs of it, a dry run of
 * an insert, upsert and merge of a file whose every row changes a stored
 * record (at a smaller N: see bench/README.md "Re-imports"), and an upsert of
 * a corrected file (one row in 100 changed). Then the latency
 * of a 20-row dry run against 30k stored users (target < 300 ms).
 *
 * Each run's stored sessions are put in place untimed (`prepare`) with the
 * driver, as the direct baseline writes them; the run checks its summary
 * counts, so a row that measured the wrong thing fails instead of reporting.
 */
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { join } from "node:path";
import { IMPORT_DB, createRecordsIndexes, resetImportSessions, type BenchContext } from "../lib/context.js";
import { isCorrectedRow, seedSessions, userDoc, writeSessionsCsv } from "../lib/data.js";
import { runWorker } from "../lib/processes.js";
import { interleave, type Variant } from "../lib/rounds.js";
import { fmtRate, median, type TableRow } from "../lib/report.js";
import { mintToken, withServices } from "./e2e.js";

type Mode = "insert" | "upsert" | "merge" | "skip-existing";
type Expect = "inserted" | "updated" | "unchanged" | "skipped";

const USERS_STORED = 30_000;
const USERS_DB = "bench_users";
const LATENCY_TARGET_MS = 300;

/** One row of the section; the first of each group is the insert every other row of it is measured against. */
interface CaseSpec {
  id: string;
  label: string;
  mode: Mode;
  /** Which variant of the file's sessions is stored first; undefined: none. */
  stored?: number;
  expect: Expect;
  strict?: boolean;
  dryRun?: boolean;
  /** One row in this many is changed ("updated"); the rest are `expect`. */
  changedEvery?: number;
}

interface Case extends CaseSpec {
  file: string;
  rows: number;
}

/** Files whose rows are all stored as they are (N = `--reimport-n`). */
const SAME_CASES: readonly CaseSpec[] = [
  { id: "ri-insert", label: "insert (baseline)", mode: "insert", expect: "inserted" },
  { id: "ri-upsert-unchanged", label: "upsert, all stored as they are", mode: "upsert", stored: 0, expect: "unchanged" },
  { id: "ri-upsert-unchanged-strict", label: "upsert strict, all stored as they are", mode: "upsert", stored: 0, expect: "unchanged", strict: true },
  { id: "ri-merge-unchanged", label: "merge, all stored as they are", mode: "merge", stored: 0, expect: "unchanged" },
  { id: "ri-skip-existing", label: "skip-existing, all stored", mode: "skip-existing", stored: 0, expect: "skipped" },
  { id: "ri-dry-run-upsert", label: "dry run of the upsert, all stored as they are", mode: "upsert", stored: 0, expect: "unchanged", dryRun: true },
  { id: "ri-dry-run-insert", label: "dry run of the insert, empty collection", mode: "insert", expect: "inserted", dryRun: true },
];

/** Files whose every row changes a stored record (N = `--changed-n`). */
const CHANGED_CASES: readonly CaseSpec[] = [
  { id: "ri-insert-small", label: "insert (baseline)", mode: "insert", expect: "inserted" },
  { id: "ri-upsert-changed", label: "upsert, every row changes a stored record", mode: "upsert", stored: 0, expect: "updated" },
  { id: "ri-merge-changed", label: "merge, every row changes a stored record", mode: "merge", stored: 0, expect: "updated" },
];

/** One row in this many of a corrected file changes its stored record. */
const CORRECTED_EVERY = 100;

/**
 * A corrected file (N = `--corrected-n`): every row stored, one in
 * {@link CORRECTED_EVERY} changed, spread over every batch — the re-import
 * people do most.
 */
const CORRECTED_CASES: readonly CaseSpec[] = [
  { id: "ri-insert-corrected", label: "insert (baseline)", mode: "insert", expect: "inserted" },
  { id: "ri-upsert-corrected", label: `upsert, a corrected file (1 row in ${CORRECTED_EVERY} changed)`, mode: "upsert", stored: 0, expect: "unchanged", changedEvery: CORRECTED_EVERY },
];

/** The 20-row users dry runs against 30k stored users. */
const USERS_DRY_RUNS = "users-dry-runs";

/**
 * What `--reimport-rows` may name: a row of any of the three files, or the users dry
 * runs. A group's insert runs whenever one of its rows does (it is what they
 * are measured against).
 */
export const REIMPORT_ROWS: readonly string[] = [...SAME_CASES.slice(1), ...CHANGED_CASES.slice(1), ...CORRECTED_CASES.slice(1)].map((c) => c.id).concat(USERS_DRY_RUNS);

function variantOf(ctx: BenchContext, token: string | undefined, c: Case): Variant {
  return {
    id: c.id,
    prepare: async () => {
      await resetImportSessions(ctx);
      if (c.stored !== undefined) await seedSessions(ctx.importDb, c.rows, c.stored);
    },
    run: () =>
      withServices(ctx, IMPORT_DB, async (url) => {
        const r = await runWorker("bench/workers/e2e-import.ts", { url, file: c.file, mode: c.mode, token, strict: c.strict ?? false, dryRun: c.dryRun ?? false });
        const s = r.extra as Record<Expect | "failed", number>;
        let changed = 0;
        for (let i = 0; c.changedEvery && i < c.rows; i++) if (isCorrectedRow(i, c.changedEvery)) changed++;
        const want: Partial<Record<Expect | "failed", number>> = { [c.expect]: c.rows - changed, ...(changed > 0 ? { updated: changed } : {}), failed: 0 };
        for (const [outcome, count] of Object.entries(want)) {
          if (s[outcome as Expect] !== count) throw new Error(`${c.id}: expected ${JSON.stringify(want)}, got ${JSON.stringify(s)}`);
        }
        return r;
      }),
  };
}

async function writeUsersCsv(path: string, first: number, n: number): Promise<void> {
  const out = createWriteStream(path);
  out.write("email,username,firstName,lastName,role,status,createdAt\r\n");
  for (let i = first; i < first + n; i++) {
    const u = userDoc(i);
    out.write(`${u.email},${u.username},${u.firstName},${u.lastName},${u.role},${u.status},${(u.createdAt as Date).toISOString()}\r\n`);
  }
  out.end();
  await once(out, "close");
}

/** Seeds 30k users (untimed), then times 20-row dry runs through warm services: stored users (unchanged) and new ones. */
async function dryRunLatency(ctx: BenchContext, token: string | undefined): Promise<{ rows: TableRow[]; raw: Record<string, number[]> }> {
  const db = ctx.client.db(USERS_DB);
  await db.dropDatabase();
  await createRecordsIndexes(db, ["users"]);
  for (let start = 0; start < USERS_STORED; start += 1000)
    await db.collection("users").insertMany(
      Array.from({ length: 1000 }, (_, i) => userDoc(start + i)),
      { ordered: false },
    );
  const storedFile = join(ctx.tmp, "users-stored-20.csv");
  const newFile = join(ctx.tmp, "users-new-20.csv");
  await writeUsersCsv(storedFile, 12_345, 20);
  await writeUsersCsv(newFile, USERS_STORED + 1000, 20);
  const times: Record<string, number[]> = { stored: [], new: [] };
  const tries = ctx.options.quick ? 3 : 5;
  await withServices(ctx, USERS_DB, async (url) => {
    let last = { records: 0, bytes: 0, ms: 0, rssMb: 0 };
    for (let i = 0; i <= tries; i++) {
      for (const [kind, file, expect] of [
        ["stored", storedFile, "unchanged"],
        ["new", newFile, "inserted"],
      ] as const) {
        const r = await runWorker("bench/workers/e2e-import.ts", { url, file, mode: "upsert", token, dryRun: true, entity: "users" });
        const s = r.extra as Record<string, number>;
        if (s[expect] !== 20) throw new Error(`20-row users dry run (${kind}): expected 20 ${expect}, got ${JSON.stringify(s)}`);
        if (i > 0) times[kind]!.push(r.ms); // the first of each warms the services up
        last = r;
      }
    }
    return last;
  });
  await db.dropDatabase();
  const row = (kind: "stored" | "new", name: string, target: boolean): TableRow => {
    const ms = median(times[kind]!);
    return {
      section: "re-imports",
      name,
      n: USERS_STORED,
      rounds: times[kind]!.length,
      ours: `${ms.toFixed(0)} ms (median; ${times[kind]!.map((t) => t.toFixed(0)).join(", ")})`,
      theirs: `target < ${LATENCY_TARGET_MS} ms`,
      target: target ? `< ${LATENCY_TARGET_MS} ms` : "info",
      met: target ? ms < LATENCY_TARGET_MS : undefined,
    };
  };
  return {
    rows: [
      row("stored", "20-row upsert dry run of stored users (unchanged), against 30k users, warm services", true),
      row("new", "20-row upsert dry run of new users, against 30k users, warm services", false),
    ],
    raw: times,
  };
}

export async function reimportRows(ctx: BenchContext): Promise<{ rows: TableRow[]; raw: Record<string, unknown> }> {
  const { reimportN: n, changedN, correctedN, rounds, reimportRows: selected } = ctx.options;
  const token = await mintToken(ctx);
  const same = join(ctx.tmp, `reimport-${n}.csv`);
  const changed = join(ctx.tmp, `reimport-changed-${changedN}.csv`);
  const corrected = join(ctx.tmp, `reimport-corrected-${correctedN}.csv`);
  await Promise.all([writeSessionsCsv(same, n, 0), writeSessionsCsv(changed, changedN, 1), writeSessionsCsv(corrected, correctedN, 0, 0, CORRECTED_EVERY)]);
  const chosen = (list: readonly CaseSpec[]) => (selected ? list.filter((c, i) => i === 0 || selected.has(c.id)) : list);
  const cases: Case[] = chosen(SAME_CASES).map((c) => ({ ...c, file: same, rows: n }));
  const changedCases: Case[] = chosen(CHANGED_CASES).map((c) => ({ ...c, file: changed, rows: changedN }));
  const correctedCases: Case[] = chosen(CORRECTED_CASES).map((c) => ({ ...c, file: corrected, rows: correctedN }));
  const rows: TableRow[] = [];
  const raw: Record<string, unknown> = {};
  for (const [group, list, size] of [
    ["same", cases, n],
    ["changed", changedCases, changedN],
    ["corrected", correctedCases, correctedN],
  ] as const) {
    if (list.length < 2) continue;
    ctx.log(`re-imports (${group}, ${size} rows): ${list.map((c) => c.id).join(", ")}; ${rounds} round(s)`);
    const s = await interleave(
      list.map((c) => variantOf(ctx, token, c)),
      rounds,
      ctx.log,
    );
    raw[group] = Object.fromEntries(s);
    const insert = s.get(list[0]!.id);
    for (const c of list.slice(1)) {
      const ours = s.get(c.id);
      const ok = ours && !ours.error && insert && !insert.error;
      const ratio = ok ? ours.rps / insert.rps : undefined;
      rows.push({
        section: "re-imports",
        name: `${c.label}: ${c.mode}${c.dryRun ? " (dry run)" : ""} vs insert of the same file, end to end`,
        n: size,
        rounds,
        ours: ours?.error ? "FAILED" : ours ? fmtRate(ours.rps, "rows/s") : "not run",
        theirs: `insert ${insert?.error ? "FAILED" : insert ? fmtRate(insert.rps, "rows/s") : "not run"}`,
        ratio,
        target: "≥ 0.8×",
        met: ratio === undefined ? undefined : ratio >= 0.8,
        note: [ours?.error?.split("\n")[0], insert?.error?.split("\n")[0]].filter(Boolean).join("; ") || undefined,
      });
    }
  }
  if (!selected || selected.has(USERS_DRY_RUNS)) {
    const latency = await dryRunLatency(ctx, token);
    rows.push(...latency.rows);
    raw.dryRunLatencyMs = latency.raw;
  }
  return { rows, raw };
}
