/**
 * Medians, ratios, the printed table and the JSON record of a run.
 *
 * Only ratios between parties measured in the same run, interleaved
 * (A B A B …), mean anything here: absolute numbers are bound by FerretDB and
 * by whatever else the two noisy cores are doing.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One printed line: a measurement of ours against a reference, or a note. */
export interface TableRow {
  section: string;
  name: string;
  /** Records per run. */
  n: number;
  rounds: number;
  ours: string;
  theirs: string;
  /** ours / theirs (higher is better), or undefined when there is nothing to compare. */
  ratio?: number;
  target: string;
  /** Whether the target is met; undefined when not measurable. */
  met?: boolean;
  note?: string;
}

export function fmtRate(perSecond: number, unit = "rec/s"): string {
  if (!Number.isFinite(perSecond)) return "n/a";
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)}M ${unit}`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k ${unit}`;
  return `${perSecond.toFixed(0)} ${unit}`;
}

export function fmtMb(mb: number | undefined): string {
  return mb === undefined || !Number.isFinite(mb) ? "n/a" : `${mb.toFixed(0)} MB`;
}

export function fmtN(n: number): string {
  return n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n);
}

function pad(s: string, width: number): string {
  return s.length >= width ? s : s + " ".repeat(width - s.length);
}

export function renderTable(rows: TableRow[]): string {
  const header = ["section", "measurement", "N", "rounds", "ours", "reference", "ratio", "target", "ok"];
  const cells = rows.map((r) => [
    r.section,
    r.name,
    fmtN(r.n),
    String(r.rounds),
    r.ours,
    r.theirs,
    r.ratio === undefined || !Number.isFinite(r.ratio) ? "—" : `${r.ratio.toFixed(2)}×`,
    r.target,
    r.met === undefined ? "—" : r.met ? "yes" : "NO",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((s, i) => pad(s, widths[i]!)).join(" | ");
  const out = [line(header), widths.map((w) => "-".repeat(w)).join("-|-")];
  rows.forEach((r, i) => {
    out.push(line(cells[i]!));
    if (r.note) out.push(`${" ".repeat(4)}↳ ${r.note}`);
  });
  return out.join("\n");
}

/** Writes the run as JSON under bench/results/ (git-ignored) and returns the path. */
export function writeResults(dir: string, run: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const path = join(dir, `bench-${stamp}.json`);
  const text = `${JSON.stringify(run, null, 2)}\n`;
  writeFileSync(path, text);
  writeFileSync(join(dir, "latest.json"), text);
  return path;
}
