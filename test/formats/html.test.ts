/**
 * The HTML export as a browser gets it: one standalone page that parses as
 * HTML5 without a single parse error, the caption naming what was exported,
 * every value escaped (a value can never become markup), numbers
 * right-aligned, and rows streamed in flat memory.
 */
import { parse } from "parse5";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import type { Column, Row } from "../../formats/_sdk/index.js";
import html from "../../formats/html/index.js";
import { batches } from "./support.js";

const columns: Column[] = [
  { key: "id", label: "ID", type: "number" },
  { key: "name", label: "Name <b>&</b>", type: "string" },
  { key: "active", label: "Active?", type: "boolean" },
  { key: "born", label: "Born at", type: "timestamp" },
];

async function page(rows: Row[], source?: { entity: string; filter?: string }, options: Record<string, unknown> = {}): Promise<string> {
  let out = "";
  for await (const chunk of html.write!(batches(rows), { columns, options: html.options.parse(options), useLabels: true, source })) out += Buffer.from(chunk).toString("utf8");
  return out;
}

function parseErrors(text: string): string[] {
  const errors: string[] = [];
  parse(text, { onParseError: (e) => errors.push(`${e.code} at ${e.startLine}:${e.startCol}`) });
  return errors;
}

describe("an HTML export", () => {
  it("is one HTML5 page without parse errors: doctype, UTF-8 meta, title, styles, caption, thead with labels", async () => {
    const text = await page([{ id: 1, name: "Ada", active: true, born: new Date("2024-03-07T14:30:00Z") }], { entity: "users", filter: '{"role":"student"}' });
    expect(parseErrors(text)).toEqual([]);
    expect(text.startsWith('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">')).toBe(true);
    expect(text).toContain("<title>users</title>");
    expect(text).toContain('<caption>users <span class="filter">filter: {&quot;role&quot;:&quot;student&quot;}</span></caption>');
    expect(text).toContain('<thead><tr><th scope="col">ID</th><th scope="col">Name &lt;b&gt;&amp;&lt;/b&gt;</th><th scope="col">Active?</th><th scope="col">Born at</th></tr></thead>');
    expect(text).toContain('<tr><td class="num">1</td><td>Ada</td><td>true</td><td><time datetime="2024-03-07T14:30:00.000Z">2024-03-07T14:30:00.000Z</time></td></tr>');
    expect(text).toContain("td.num{text-align:right");
    expect(text).toMatch(/<p class="count">1 row<\/p>\n<\/body>\n<\/html>\n$/);
  });

  it("escapes every value so none becomes markup, and shows control characters instead of dropping them", async () => {
    const nasty = `<script>alert("x")</script> & 'quotes' </td></tr></table><img src=x onerror=alert(1)>`;
    const text = await page([
      { id: 1, name: nasty },
      { id: 2, name: "bell \u0007, nul \u0000, lone \ud800" },
    ]);
    expect(parseErrors(text)).toEqual([]);
    expect(text).not.toContain("<script>");
    expect(text).not.toContain("<img");
    expect(text).toContain("<td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39; &lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;img src=x onerror=alert(1)&gt;</td>");
    expect(text).toContain("<td>bell &#x2407;, nul &#x2400;, lone \ufffd</td>");
  });

  it("has a neutral caption without a source, a title from the options, and empty cells for missing values", async () => {
    expect(await page([{ id: 3 }])).toContain("<caption>Export</caption>");
    const titled = await page([{ id: 3 }], { entity: "users" }, { title: "Active <students>", lang: "de" });
    expect(titled).toContain('<html lang="de">');
    expect(titled).toContain("<title>Active &lt;students&gt;</title>");
    expect(titled).toContain('<tr><td class="num">3</td><td></td><td></td><td></td></tr>');
    expect(html.options.safeParse({ lang: "en<x" }).success).toBe(false);
  });

  it("sends the page head before it asks for rows, and a chunk per batch after", async () => {
    let pulled = 0;
    async function* rows() {
      for (let b = 0; b < 3; b++) {
        pulled++;
        yield [{ id: b }];
      }
    }
    const it = html.write!(rows(), { columns, options: html.options.parse({}), useLabels: true })[Symbol.asyncIterator]();
    const head = await it.next();
    expect(Buffer.from(head.value!).toString()).toContain("<tbody>");
    expect(pulled).toBe(0);
    await it.next();
    expect(pulled).toBe(1);
    await it.return?.();
  });

  it("streams a million rows in flat memory", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const born = new Date("2024-01-01T00:00:00.000Z");
    async function* rows() {
      for (let start = 0; start < 1_000_000; start += 1000) {
        const batch: Row[] = [];
        for (let i = start; i < start + 1000; i++) batch.push({ id: i, name: `user ${i} <${i}>`, active: i % 2 === 0, born });
        yield batch;
      }
    }
    gc();
    const baseline = process.memoryUsage().heapUsed;
    let peak = baseline;
    let bytes = 0;
    let chunks = 0;
    for await (const chunk of html.write!(rows(), { columns, options: html.options.parse({}), useLabels: true })) {
      bytes += chunk.length;
      if (++chunks % 100 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed);
      }
    }
    expect(bytes).toBeGreaterThan(100_000_000);
    expect(peak - baseline).toBeLessThan(50 * 1024 * 1024);
  }, 120_000);
});
