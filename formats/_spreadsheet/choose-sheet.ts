/**
 * Which sheet of a workbook a reader reads: the `sheet` option by name (case
 * ignored, as spreadsheets compare names) or by 1-based position; without
 * it, the first visible sheet that holds cells — hidden sheets are usually
 * lookup tables or leftovers, not what a person sees and means to import,
 * but a hidden sheet can be read by naming it.
 */
import { FormatError } from "@data-exchange/format-sdk";

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
