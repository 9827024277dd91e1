/**
 * Rows → one standalone HTML5 page holding a `<table>`, streamed: the page
 * head and table head go out first, then one chunk of `<tr>`s per batch,
 * then the end of the page with the row count. Nothing is held but the
 * batch at hand, so a million rows are as flat as ten (a browser will
 * struggle with such a page long before this writer does).
 *
 * Every value is escaped (text, labels, the caption); numbers are
 * right-aligned in tabular figures; dates are ISO 8601 UTC in a `<time>`;
 * line breaks and runs of spaces show as they are (`white-space:
 * pre-wrap`). The caption names the entity and the filter when the core
 * says what is exported (`WriteContext.source`).
 */
import { formatCell, type Row, type WriteContext } from "@data-exchange/format-sdk";
import type { HtmlOptions } from "./options.js";

const STYLE = [
  "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:1.5rem;color:#1f2328;background:#fff}",
  "table{border-collapse:collapse;font-size:.875rem}",
  "caption{caption-side:top;text-align:left;font-weight:600;font-size:1rem;padding:0 0 .5rem}",
  "caption .filter{font-weight:400;color:#59636e;font-family:ui-monospace,monospace;font-size:.8125rem}",
  "th,td{border:1px solid #d1d9e0;padding:.25rem .5rem;text-align:left;vertical-align:top;white-space:pre-wrap}",
  "thead th{background:#f6f8fa;position:sticky;top:0}",
  "tbody tr:nth-child(even){background:#f9fafb}",
  "td.num{text-align:right;font-variant-numeric:tabular-nums}",
  "p.count{color:#59636e;font-size:.8125rem}",
].join("\n");

export async function* writeHtml(rows: AsyncIterable<Row[]>, ctx: WriteContext<HtmlOptions>): AsyncGenerator<Uint8Array> {
  const { columns } = ctx;
  const title = ctx.options.title ?? ctx.source?.entity ?? "Export";
  const caption = ctx.source?.filter ? `${escapeHtml(title)} <span class="filter">filter: ${escapeHtml(ctx.source.filter)}</span>` : escapeHtml(title);
  let head =
    `<!DOCTYPE html>\n<html lang="${escapeHtml(ctx.options.lang)}">\n<head>\n<meta charset="utf-8">\n` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">\n<meta name="generator" content="Data Exchange">\n` +
    `<title>${escapeHtml(title)}</title>\n<style>\n${STYLE}\n</style>\n</head>\n<body>\n<table>\n<caption>${caption}</caption>\n`;
  head += `<thead><tr>${columns.map((c) => `<th scope="col">${escapeHtml(ctx.useLabels ? c.label : c.key)}</th>`).join("")}</tr></thead>\n<tbody>\n`;
  yield utf8(head);
  let count = 0;
  for await (const batch of rows) {
    let html = "";
    for (const row of batch) {
      html += "<tr>";
      for (const c of columns) {
        const v = row[c.key];
        if (typeof v === "number") html += Number.isFinite(v) ? `<td class="num">${String(v)}</td>` : "<td></td>";
        else if (v instanceof Date) html += Number.isNaN(v.getTime()) ? "<td></td>" : `<td><time datetime="${v.toISOString()}">${v.toISOString()}</time></td>`;
        else {
          const text = formatCell(v, c.type);
          html += text === undefined ? "<td></td>" : `<td>${escapeHtml(text)}</td>`;
        }
      }
      html += "</tr>\n";
    }
    count += batch.length;
    if (html !== "") yield utf8(html);
  }
  yield utf8(`</tbody>\n</table>\n<p class="count">${count.toLocaleString("en-US")} ${count === 1 ? "row" : "rows"}</p>\n</body>\n</html>\n`);
}

const SPECIAL = /[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ud800-\udfff]/;

/**
 * Escapes text for HTML content and quoted attributes. Control characters
 * (which HTML forbids) are shown as numeric references of the Unicode
 * control pictures (U+2400…), so they are visible rather than dropped; a
 * lone surrogate becomes U+FFFD, the only thing UTF-8 can carry for it.
 */
export function escapeHtml(text: string): string {
  if (!SPECIAL.test(text)) return text;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    switch (ch) {
      case 38:
        out += "&amp;";
        continue;
      case 60:
        out += "&lt;";
        continue;
      case 62:
        out += "&gt;";
        continue;
      case 34:
        out += "&quot;";
        continue;
      case 39:
        out += "&#39;";
        continue;
    }
    if (ch < 0x20 && ch !== 9 && ch !== 10 && ch !== 13) out += `&#x${(0x2400 + ch).toString(16)};`;
    else if (ch === 0x7f) out += "&#x2421;";
    else if (ch >= 0xd800 && ch <= 0xdbff && i + 1 < text.length && text.charCodeAt(i + 1) >= 0xdc00 && text.charCodeAt(i + 1) <= 0xdfff) {
      out += text[i]! + text[i + 1]!;
      i++;
    } else if (ch >= 0xd800 && ch <= 0xdfff) out += "\ufffd";
    else out += text[i]!;
  }
  return out;
}

function utf8(text: string): Uint8Array {
  return Buffer.from(text, "utf8");
}
