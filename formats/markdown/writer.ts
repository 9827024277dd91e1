/**
 * Writes a GFM table: the header row, the delimiter row, then one line per
 * record, one chunk per batch, so the file streams in flat memory.
 *
 * A cell must stay one cell and show its text exactly: `|` would end it and a
 * line break would end the row, so pipes are escaped and line breaks become
 * `<br>`; every other ASCII punctuation character that Markdown could read as
 * markup (emphasis, code, links, HTML, entities) is backslash-escaped, which
 * CommonMark defines for exactly this. Dates are ISO 8601, missing cells empty.
 */
import { formatCell, type CellValue, type Row, type WriteContext } from "@data-exchange/format-sdk";
import type { Options } from "./options.js";

const MARKUP = /[\\`*_{}[\]()<>#+!|~&]/g;

/** One cell's text, safe inside a table row. */
export function markdownCell(value: CellValue): string {
  const text = formatCell(value) ?? "";
  return text.replace(MARKUP, "\\$&").replace(/\r\n|\r|\n/g, "<br>");
}

const line = (cells: string[]) => `| ${cells.join(" | ")} |\n`;

export async function* write(rows: AsyncIterable<Row[]>, ctx: WriteContext<Options>): AsyncGenerator<Uint8Array> {
  const { columns, options } = ctx;
  const header = line(columns.map((c) => markdownCell(ctx.useLabels ? c.label : c.key)));
  const delimiter = line(columns.map((c) => (options.alignNumbers && c.type === "number" ? "---:" : "---")));
  yield Buffer.from(header + delimiter, "utf8");
  for await (const batch of rows) {
    let out = "";
    for (const row of batch) out += line(columns.map((c) => markdownCell(row[c.key])));
    if (out) yield Buffer.from(out, "utf8");
  }
}
