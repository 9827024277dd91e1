/**
 * Guesses the delimiter of a CSV file from its first lines, the way
 * spreadsheet import dialogs do, so users need not know what their export tool
 * chose (Excel writes `;` in locales with a decimal comma).
 */

export const SNIFF_CANDIDATES = [",", ";", "\t", "|"] as const;
/** How much text to look at: enough for a few lines of any sane file, small enough to hold. */
export const SNIFF_CHARS = 64 * 1024;
const SNIFF_LINES = 10;

/**
 * Picks the candidate that appears the same non-zero number of times outside
 * quotes on every sampled line (most occurrences wins); failing that, the one
 * most frequent on the first line; failing that, a comma.
 * `complete` says the sample is the whole file, so its last line is whole too.
 */
export function sniffDelimiter(sample: string, quote: string, complete: boolean): string {
  const lines = countPerLine(sample, quote, complete);
  let best: string | undefined;
  let bestCount = 0;
  for (const [k, candidate] of SNIFF_CANDIDATES.entries()) {
    const counts = lines.map((l) => l[k] ?? 0);
    const first = counts[0] ?? 0;
    if (first > bestCount && counts.every((c) => c === first)) {
      best = candidate;
      bestCount = first;
    }
  }
  if (best !== undefined) return best;
  const firstLine = lines[0] ?? [];
  let top = 0;
  for (const [k, candidate] of SNIFF_CANDIDATES.entries()) {
    if ((firstLine[k] ?? 0) > top) {
      top = firstLine[k] ?? 0;
      best = candidate;
    }
  }
  return best ?? ",";
}

/** Occurrences of each candidate per line, outside quoted sections, for the first complete lines. */
function countPerLine(sample: string, quote: string, complete: boolean): number[][] {
  const lines: number[][] = [];
  let counts = SNIFF_CANDIDATES.map(() => 0);
  let inQuotes = false;
  let content = false;
  for (let i = 0; i < sample.length && lines.length < SNIFF_LINES; i++) {
    const ch = sample[i]!;
    if (ch === quote) {
      inQuotes = !inQuotes;
      content = true;
    } else if (!inQuotes && (ch === "\n" || ch === "\r")) {
      if (content) lines.push(counts);
      counts = SNIFF_CANDIDATES.map(() => 0);
      content = false;
    } else {
      content = true;
      if (!inQuotes) {
        const k = (SNIFF_CANDIDATES as readonly string[]).indexOf(ch);
        if (k !== -1) counts[k]!++;
      }
    }
  }
  if (content && lines.length < SNIFF_LINES && (complete || lines.length === 0)) lines.push(counts);
  return lines;
}
