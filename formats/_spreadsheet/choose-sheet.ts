/**
 * Which sheet of a workbook a reader reads: the `sheet` option by name (case
 * ignored, as spreadsheets compare names) or by 1-based position; without
 * it, the first visible sheet that holds cells — hidden sheets are usually
 * lookup tables or leftovers, not what a person sees and means to import,
 * but a hidden sheet can be read by naming it. Left to choose, it refuses a
 * first sheet whose rows go on on "<name> (2)" (our own exports past
 * `rowsPerSheet`): reading one of them would leave the others' rows out.
 */
import { FormatError } from "@data-exchange/format-sdk";
import { sheetNames } from "./sheet-names.js";

export interface NamedSheet {
  name: string;
  /** "visible", "hidden", "veryHidden". */
  state: string;
  /** "worksheet" for a table of cells; anything else (a chart) cannot be read as rows. */
  kind: string;
}

export function chooseSheet<S extends NamedSheet>(sheets: S[], wanted: string | number | undefined): S {
  const list = () => sheets.map((s) => JSON.stringify(s.name)).join(", ") || "none";
  if (wanted === undefined) {
    const tables = sheets.filter((s) => s.kind === "worksheet");
    const chosen = tables.find((s) => s.state === "visible") ?? tables[0];
    if (chosen === undefined) throw new FormatError(`the workbook has no sheet of cells to read (sheets: ${list()})`);
    refuseContinuations(
      chosen.name,
      tables.filter((s) => s !== chosen).map((s) => s.name),
    );
    return chosen;
  }
  if (typeof wanted === "string") {
    const byName = sheets.find((s) => s.name.toLowerCase() === wanted.toLowerCase());
    if (byName) return byName;
    if (!/^\d+$/.test(wanted)) throw new FormatError(`the workbook has no sheet named ${JSON.stringify(wanted)} (sheets: ${list()})`);
  }
  const index = Number(wanted);
  const byIndex = sheets[index - 1];
  if (byIndex === undefined) throw new FormatError(`the workbook has no sheet ${index}: it has ${sheets.length} (${list()})`);
  return byIndex;
}

/**
 * Whether `name` is how our exports name a later sheet of `first` when the
 * rows did not fit on one ("users (2)", "users (3)", …: sheet-names.ts).
 */
export function continuesSheet(first: string, name: string): boolean {
  const match = / \((\d+)\)$/.exec(name);
  if (!match) return false;
  const number = Number(match[1]);
  return number >= 2 && Number.isSafeInteger(number) && sheetNames(first)(number - 1) === name;
}

/**
 * Refuses a read that, left to choose its sheet, would read the first sheet
 * of rows that go on on other sheets (an export past `rowsPerSheet`): only
 * reading the first would leave the others' rows out without a word. Naming
 * a sheet (the `sheet` option) reads that one alone, as asked.
 */
export function refuseContinuations(first: string, others: readonly string[]): void {
  const later = others.filter((name) => continuesSheet(first, name));
  if (later.length === 0) return;
  const names = later.map((n) => JSON.stringify(n)).join(", ");
  throw new FormatError(
    `the rows of sheet ${JSON.stringify(first)} go on on sheet${later.length > 1 ? "s" : ""} ${names}; only one sheet is read, so import each with the sheet option (e.g. {"sheet": ${JSON.stringify(later[0])}}), or export with rowsPerSheet large enough for one sheet`,
  );
}
