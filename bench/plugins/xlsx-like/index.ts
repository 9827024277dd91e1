/**
 * Bench only, not a format: the work an XLSX writer does for its rows —
 * SpreadsheetML cells with cell references and XML escaping, deflated as a
 * zip entry is — without the zip container, so that the format-worker rows
 * can measure an event loop under an XLSX-sized load while no XLSX plugin
 * ships yet. Deflating is synchronous, per batch, on the calling thread, as
 * JavaScript spreadsheet writers do when they build an entry in memory.
 *
 * Loaded only by the bench (TRANSFER_PLUGIN_DIRS=bench/plugins); a plugin
 * from an extra folder runs in a format worker unless configured otherwise.
 */
import { deflateRawSync } from "node:zlib";
import { z } from "zod";
import { definePlugin, formatCell } from "../../../formats/_sdk/index.js";

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };

function escapeXml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ESCAPES[c]!);
}

/** A1-style column letters: 0 → A, 25 → Z, 26 → AA. */
function columnName(index: number): string {
  let name = "";
  for (let i = index + 1; i > 0; i = Math.floor((i - 1) / 26)) name = String.fromCharCode(65 + ((i - 1) % 26)) + name;
  return name;
}

export default definePlugin({
  name: "xlsx-like",
  title: "XLSX-sized workload (bench only)",
  extensions: ["xml"],
  mimeType: "application/octet-stream",
  shape: "tabular",
  audience: "human",
  options: z.object({ level: z.number().int().min(0).max(9).default(6) }),
  async *write(rows, { columns, options, useLabels }) {
    const names = columns.map((_, i) => columnName(i));
    let r = 1;
    const header = `<sheetData><row r="1">${columns.map((c, i) => `<c r="${names[i]}1" t="inlineStr"><is><t>${escapeXml(useLabels ? c.label : c.key)}</t></is></c>`).join("")}</row>`;
    yield deflateRawSync(Buffer.from(header), { level: options.level });
    for await (const batch of rows) {
      let xml = "";
      for (const row of batch) {
        r++;
        xml += `<row r="${r}">`;
        for (let i = 0; i < columns.length; i++) {
          const value = row[columns[i]!.key];
          if (typeof value === "number") xml += `<c r="${names[i]}${r}"><v>${value}</v></c>`;
          else {
            const text = formatCell(value, columns[i]!.type);
            if (text !== undefined) xml += `<c r="${names[i]}${r}" t="inlineStr"><is><t>${escapeXml(text)}</t></is></c>`;
          }
        }
        xml += "</row>";
      }
      yield deflateRawSync(Buffer.from(xml), { level: options.level });
    }
    yield deflateRawSync(Buffer.from("</sheetData>"), { level: options.level });
  },
});
