/**
 * "Did you mean" for column names: a mapping that names `first_name` when the
 * file says `firstname`, a header cell `first_name` when the field is
 * `firstName`. Names are compared without case, spaces, underscores, dashes
 * and dots, then by a small edit distance, so the suggestion is the column a
 * person meant, not a fuzzy guess among dozens.
 */

/** Lower case, letters and digits only: `First_Name`, `first name` and `firstName` all become `firstname`. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[^\p{L}\p{N}]/gu, "");
}

/** Up to three of `candidates` that `name` was probably meant to be, best first. */
export function suggestNames(name: string, candidates: readonly string[]): string[] {
  const want = normalizeName(name);
  if (want === "") return [];
  const scored: { candidate: string; score: number }[] = [];
  for (const candidate of new Set(candidates)) {
    if (candidate === name) continue;
    const have = normalizeName(candidate);
    if (have === "") continue;
    let score: number;
    if (have === want) score = 0;
    else if (want.length >= 4 && (have.includes(want) || want.includes(have)) && Math.min(have.length, want.length) >= 4) score = 1;
    else {
      const d = distance(want, have, 2);
      if (d > 2 || want.length < 4) continue;
      score = 1 + d;
    }
    scored.push({ candidate, score });
  }
  return scored
    .sort((a, b) => a.score - b.score)
    .slice(0, 3)
    .map((s) => s.candidate);
}

/** ` (did you mean "a" or "b"?)`, or nothing. */
export function didYouMean(name: string, candidates: readonly string[]): string {
  const found = suggestNames(name, candidates);
  if (found.length === 0) return "";
  return ` (did you mean ${found.map((f) => JSON.stringify(f)).join(" or ")}?)`;
}

/** A list of names for a message, clipped. */
export function listNames(names: readonly string[], max = 40): string {
  const shown = names
    .slice(0, max)
    .map((n) => JSON.stringify(n))
    .join(", ");
  return names.length > max ? `${shown}, … (${names.length} in all)` : shown;
}

/** Levenshtein distance, giving up (returning limit + 1) once it must exceed `limit`. */
function distance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      best = Math.min(best, current[j]!);
    }
    if (best > limit) return limit + 1;
    previous = current;
  }
  return previous[b.length]!;
}
