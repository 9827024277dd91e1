/**
 * The rows that touch the database: export, import (insert, upsert), flat
 * memory, and the full path through the transfer service. (The MongoDB
 * Database Tools are not run: see bench/README.md, "mongoexport and
 * mongoimport, on paper".) Each phase runs all its parties interleaved
 * in the same rounds, so every ratio compares runs made side by side.
 */
import type { BenchContext } from "../lib/context.js";
import { interleave, type Summary, type Variant } from "../lib/rounds.js";
import { fmtMb, fmtRate, type TableRow } from "../lib/report.js";
import { directExport, directImport } from "./direct.js";
import { recordsExport, recordsImport } from "./records.js";
import { e2eParties, type Parties } from "./e2e.js";

/** End to end against the direct path, export and import (issue 17, goal 2; it read 0.8× before that issue raised it). */
const END_TO_END_TARGET = "≥ 0.9×";

function rate(s: Summary | undefined, unit = "rec/s", withMb = false): string {
  if (!s) return "not run";
  if (s.error) return "FAILED";
  return withMb ? `${fmtRate(s.rps, unit)}, ${s.mbps.toFixed(1)} MB/s` : fmtRate(s.rps, unit);
}

function rss(s: Summary | undefined): string {
  if (!s || s.error) return "";
  const parts = Object.entries(s.rssMax).map(([k, v]) => `${k} ${fmtMb(v)}`);
  return parts.length ? `peak RSS ${parts.join(", ")}` : "";
}

/** CPU per record of each process (median µs), and ours all together against the reference's. */
function cpu(ours: Summary | undefined, theirs: Summary | undefined): string {
  if (!ours || ours.error || Object.keys(ours.cpuUsPerRecord).length === 0) return "";
  const total = (s: Summary) => Object.values(s.cpuUsPerRecord).reduce((a, b) => a + b, 0);
  const parts = Object.entries(ours.cpuUsPerRecord).map(([k, v]) => `${k} ${v.toFixed(0)}`);
  const reference = theirs && !theirs.error && Object.keys(theirs.cpuUsPerRecord).length > 0 ? total(theirs) : undefined;
  return `CPU µs/record ${parts.join(", ")} = ${total(ours).toFixed(0)}${reference !== undefined ? ` (reference ${reference.toFixed(0)}, ${(total(ours) / reference).toFixed(2)}×)` : ""}`;
}

function compare(
  section: string,
  name: string,
  n: number,
  rounds: number,
  ours: Summary | undefined,
  theirs: Summary | undefined,
  theirsName: string,
  target: string | undefined,
  withMb: boolean,
  note?: string,
): TableRow {
  const ok = ours && !ours.error && theirs && !theirs.error;
  const ratio = ok ? ours.rps / theirs.rps : undefined;
  const notes = [ours?.error && `ours failed: ${ours.error.split("\n")[0]}`, theirs?.error && `${theirsName} failed: ${theirs.error.split("\n")[0]}`, rss(ours), cpu(ours, theirs), note].filter(
    Boolean,
  );
  return {
    section,
    name,
    n,
    rounds,
    ours: rate(ours, "rec/s", withMb),
    theirs: `${theirsName} ${rate(theirs, "rec/s", withMb)}`,
    ratio,
    target: target ?? "info",
    met: ratio === undefined || target === undefined ? undefined : ratio >= Number(/[\d.]+/.exec(target)![0]),
    note: notes.join("; ") || undefined,
  };
}

export async function databaseRows(ctx: BenchContext): Promise<{ rows: TableRow[]; raw: Record<string, unknown> }> {
  const { n, rounds, upsertN, sections } = ctx.options;
  const rows: TableRow[] = [];
  const phases: Record<string, Map<string, Summary>> = {};
  const e2e: Parties = sections.has("e2e") ? await e2eParties(ctx) : { available: false, why: "not selected" };
  // Quick runs keep to the rows with targets (end to end) when the transfer service is there.
  const recordsLevel = !ctx.options.quick || !e2e.available || sections.has("records");
  const run = async (phase: string, variants: Variant[], r = rounds) => {
    ctx.log(`${phase}: ${variants.map((v) => v.id).join(", ")}; ${r} round(s)`);
    const result = await interleave(variants, r, ctx.log);
    phases[phase] = result;
    return result;
  };

  if (sections.has("export") || sections.has("memory")) {
    const variants = [
      directExport(ctx),
      ...(recordsLevel ? [recordsExport(ctx, "csv"), recordsExport(ctx, "ndjson")] : []),
      ...(e2e.exportVariants?.(ctx.options.quick ? ["csv"] : ["csv", "ndjson"]) ?? []),
    ];
    const s = await run("export", variants);
    const base = s.get("direct-export");
    if (recordsLevel) {
      rows.push(compare("records level", "export CSV: client → records → db", n, rounds, s.get("records-export-csv"), base, "driver+csv-stringify", undefined, true));
      rows.push(compare("records level", "export NDJSON: client → records → db", n, rounds, s.get("records-export-ndjson"), base, "driver+csv-stringify", undefined, true));
    }
    if (e2e.available) {
      rows.push(compare("end to end", "export CSV: client → transfer → records → db", n, rounds, s.get("e2e-export-csv"), base, "driver+csv-stringify", END_TO_END_TARGET, true));
      if (!ctx.options.quick)
        rows.push(compare("end to end", "export NDJSON: client → transfer → records → db", n, rounds, s.get("e2e-export-ndjson"), base, "driver+csv-stringify", END_TO_END_TARGET, true));
    }
  }

  if (sections.has("import") || sections.has("memory")) {
    const variants = [directImport(ctx, ctx.files.csvN), ...(recordsLevel ? [recordsImport(ctx, "insert", ctx.files.csvN, n)] : []), ...(e2e.importVariants?.("insert", ctx.files.csvN, n) ?? [])];
    const s = await run("import", variants);
    const base = s.get("direct-import");
    if (recordsLevel) rows.push(compare("records level", "import CSV insert: client → records → db", n, rounds, s.get("records-import-insert"), base, "csv-parse+zod+insertMany", undefined, false));
    if (e2e.available)
      rows.push(
        compare("end to end", "import CSV insert (lenient): client → transfer → records → db", n, rounds, s.get("e2e-import-insert"), base, "csv-parse+zod+insertMany", END_TO_END_TARGET, false),
      );
  }

  if (sections.has("upsert")) {
    const note = `upsert of ${upsertN} new keys into an empty collection: sent as inserts first (only keys a unique index refuses are looked up), so it costs what an insert does; the reference inserts the same rows. Upserts over existing keys: section reimport`;
    const variants = [
      directImport(ctx, ctx.files.csvUpsert, "direct-import-upsert-n"),
      ...(recordsLevel ? [recordsImport(ctx, "upsert", ctx.files.csvUpsert, upsertN)] : []),
      ...(e2e.importVariants?.("upsert", ctx.files.csvUpsert, upsertN) ?? []),
    ];
    const s = await run("upsert", variants);
    const base = s.get("direct-import-upsert-n");
    if (recordsLevel)
      rows.push(compare("records level", "import CSV upsert: client → records → db", upsertN, rounds, s.get("records-import-upsert"), base, "insertMany (empty)", undefined, false, note));
    if (e2e.available)
      rows.push(
        compare("end to end", "import CSV upsert (lenient): client → transfer → records → db", upsertN, rounds, s.get("e2e-import-upsert"), base, "insertMany (empty)", END_TO_END_TARGET, false),
      );
  }

  if (sections.has("memory")) {
    const tenth = Math.round(n / 10);
    const variants = [
      ...(recordsLevel ? [recordsExport(ctx, "csv", tenth), recordsImport(ctx, "insert", ctx.files.csvTenth, tenth, "records-import-insert-tenth")] : []),
      ...(e2e.memoryVariants?.(tenth) ?? []),
    ];
    const s = await run("memory", variants, 1);
    const pairs: [string, string, string][] = [
      ...(recordsLevel
        ? ([
            ["export CSV (records level)", "records-export-csv", `records-export-csv-${tenth}`],
            ["import CSV insert (records level)", "records-import-insert", "records-import-insert-tenth"],
          ] as [string, string, string][])
        : []),
      ...(e2e.available
        ? ([
            ["export CSV (e2e)", "e2e-export-csv", `e2e-export-csv-${tenth}`],
            ["import CSV insert (e2e)", "e2e-import-insert", "e2e-import-insert-tenth"],
          ] as [string, string, string][])
        : []),
    ];
    for (const [label, atN, atTenth] of pairs) {
      const full = phases.export?.get(atN) ?? phases.import?.get(atN);
      const small = s.get(atTenth);
      for (const proc of Object.keys(full?.rssMax ?? {}).filter((p) => p !== "client")) {
        const a = full!.rssMax[proc]!;
        const b = small?.rssMax[proc];
        const ratio = b ? a / b : undefined;
        rows.push({
          section: "memory",
          name: `${label}: peak RSS of ${proc}`,
          n,
          rounds,
          ours: `${fmtMb(a)} at N`,
          theirs: `${fmtMb(b)} at N/10`,
          ratio,
          target: "< 200 MB, ≤ 1.2×",
          met: ratio === undefined ? undefined : a < 200 && ratio <= 1.2,
        });
      }
    }
  }

  for (const p of [e2e]) if (!p.available && p.why !== "not selected") rows.push({ section: p.label ?? "", name: "not measured", n, rounds: 0, ours: "—", theirs: "—", target: "", note: p.why });
  const raw = Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Object.fromEntries(v)]));
  return { rows, raw };
}
