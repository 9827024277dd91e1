/**
 * From `xl/styles.xml`, what each cell style (`s` attribute → `cellXfs`)
 * makes of a number: a plain number, a date, or a duration / time of day.
 * Nothing else about styles matters to a reader.
 */
import { attr, parseXml } from "../_spreadsheet/xml-stream.js";
import { numberFormatKind, type NumberKind } from "./excel-dates.js";

export async function readCellStyles(chunks: AsyncIterable<Uint8Array> | undefined, maxTextChars: number): Promise<NumberKind[]> {
  if (chunks === undefined) return [];
  const codes = new Map<number, string>();
  const formats: number[] = [];
  let inCellXfs = false;
  for await (const _ of parseXml(
    chunks,
    {
      open(name, a, selfClosing) {
        if (name === "numFmt") {
          const id = Number(attr(a, "numFmtId"));
          const code = attr(a, "formatCode");
          if (Number.isInteger(id) && code !== undefined) codes.set(id, code);
        } else if (name === "cellXfs") inCellXfs = !selfClosing;
        else if (inCellXfs && name === "xf") formats.push(Number(attr(a, "numFmtId") ?? 0));
      },
      close(name) {
        if (name === "cellXfs") inCellXfs = false;
      },
    },
    "xl/styles.xml",
    maxTextChars,
  ));
  return formats.map((id) => numberFormatKind(id, codes.get(id)));
}
