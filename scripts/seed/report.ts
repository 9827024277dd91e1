/** The seed's end-of-run table: what was read and mapped, and what the service did. */
import type { EntityLoadResult } from "./load-records.js";
import type { OuladSeed } from "./oulad-seed.js";

export interface SeedOutcome {
  seed: OuladSeed;
  results: EntityLoadResult[];
  ms: number;
}

/** True when a record failed to write or a row could not be mapped. */
export function seedFailed({ seed, results }: SeedOutcome): boolean {
  return results.some((r) => r.failed > 0) || Object.values(seed.tallies).some((t) => t.rejected > 0) || seed.sites.rejected > 0;
}

export function formatReport(outcome: SeedOutcome): string {
  const { seed, results, ms } = outcome;
  const header = ["entity", "rows read", "mapped", "rejected", "sent", "inserted", "updated", "unchanged", "failed", "seconds"];
  const rows = results.map((r) => {
    const t = seed.tallies[r.entity];
    return [r.entity, t.rows, t.records, t.rejected, r.records, r.inserted, r.updated, r.unchanged, r.failed, (r.ms / 1000).toFixed(1)].map(String);
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  const out = [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];

  for (const r of results) if (r.notLoaded) out.push(`${r.entity}: not loaded: ${r.notLoaded}.`);
  for (const tally of [...Object.values(seed.tallies), seed.sites]) {
    for (const [what, count] of tally.assumptions) out.push(`${tally.entity}: ${count} × ${what}`);
    if (tally.rejected > 0) {
      out.push(`${tally.entity}: ${tally.rejected} row(s) could not be mapped${tally.rejected > tally.rejections.length ? ` (first ${tally.rejections.length})` : ""}:`);
      for (const x of tally.rejections) out.push(`  ${x.file}:${x.line}: ${x.reason}`);
    }
  }
  for (const r of results) {
    if (r.failed === 0) continue;
    out.push(`${r.entity}: ${r.failed} record(s) failed${r.failed > r.errors.length ? ` (first ${r.errors.length})` : ""}:`);
    for (const e of r.errors) out.push(`  batch ${e.batch} #${e.index} ${e.record}: ${e.code}${e.field ? ` ${e.field}` : ""}: ${e.reason}`);
  }
  out.push(`${seedFailed(outcome) ? "FAILED" : "done"} in ${(ms / 1000).toFixed(1)} s`);
  return out.join("\n");
}
