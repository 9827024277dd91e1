/**
 * Where a command's words go. stdout carries results (a table, a summary, a
 * file with `-o -`, NDJSON events with `--json`), so pipes get only those;
 * stderr carries what a person watches (progress, row errors, notes).
 * `--quiet` keeps only the final lines; `--json` prints one JSON object per
 * event on stdout and nothing for people.
 */
export interface OutputOptions {
  json: boolean;
  quiet: boolean;
}

export class Output {
  constructor(readonly options: OutputOptions) {}

  get json(): boolean {
    return this.options.json;
  }

  /** Whether a live progress bar may be drawn: stderr is a terminal, and neither --quiet nor --json. */
  get live(): boolean {
    return !this.options.quiet && !this.options.json && process.stderr.isTTY === true;
  }

  /** A result line for people (stdout); nothing with --json. */
  result(line: string): void {
    if (!this.options.json) process.stdout.write(`${line}\n`);
  }

  /** A note while working (stderr); nothing with --quiet or --json. */
  note(line: string): void {
    if (!this.options.quiet && !this.options.json) process.stderr.write(`${line}\n`);
  }

  /** A final line that must not mix with data on stdout (stderr); nothing with --json. */
  final(line: string): void {
    if (!this.options.json) process.stderr.write(`${line}\n`);
  }

  /** One NDJSON event (stdout), only with --json. */
  event(value: unknown): void {
    if (this.options.json) process.stdout.write(`${JSON.stringify(value)}\n`);
  }
}

/** Columns padded to their widest cell; the last one is not padded. */
export function table(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return "";
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** 1536 → "1.5 KiB". */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
