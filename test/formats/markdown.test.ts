/**
 * The Markdown table export, checked by an independent reader: micromark (the
 * CommonMark reference parser) with its GFM table extension renders the file,
 * and every cell must show exactly the value's text — one cell per value, one
 * row per record, whatever characters the value holds.
 */
import { micromark } from "micromark";
import { gfmTable, gfmTableHtml } from "micromark-extension-gfm-table";
import { parse } from "parse5";
import { describe, expect, it } from "vitest";
import { formatCell, type Column, type Row } from "../../formats/_sdk/index.js";
import markdown from "../../formats/markdown/index.js";
import { batches } from "./support.js";

const columns: Column[] = [
  { key: "id", label: "ID", type: "number" },
  { key: "name", label: "Name | *who*", type: "string" },
  { key: "active", label: "Active?", type: "boolean" },
  { key: "born", label: "Born at", type: "timestamp" },
];

async function write(rows: Row[], options: Record<string, unknown> = {}): Promise<string> {
  let out = "";
  for await (const chunk of markdown.write!(batches(rows, 2), { columns, options: markdown.options.parse(options), useLabels: true })) out += Buffer.from(chunk).toString("utf8");
  return out;
}

type Node = { nodeName: string; childNodes?: Node[]; value?: string; tagName?: string };

/** The table as a reader of the rendered page sees it: rows of cell texts (`<br>` as a line break). */
function rendered(text: string): string[][] {
  // Raw HTML allowed, as GitHub allows some: the export must escape what it does not mean as markup.
  const html = micromark(text, { allowDangerousHtml: true, extensions: [gfmTable()], htmlExtensions: [gfmTableHtml()] });
  const rows: string[][] = [];
  const textOf = (node: Node): string => (node.nodeName === "#text" ? node.value! : node.nodeName === "br" ? "\n" : (node.childNodes ?? []).map(textOf).join(""));
  const walk = (node: Node) => {
    if (node.nodeName === "tr") rows.push((node.childNodes ?? []).filter((c) => c.nodeName === "td" || c.nodeName === "th").map(textOf));
    else for (const child of node.childNodes ?? []) walk(child);
  };
  walk(parse(html) as unknown as Node);
  return rows;
}

describe("a Markdown table export", () => {
  it("renders as one table: labels as headers, one row per record, each cell its value's text", async () => {
    const rows: Row[] = [{ id: 1, name: "Ada Lovelace", active: true, born: new Date("1815-12-10T00:00:00Z") }, { id: 2.5, name: "", active: false }, { id: 3 }];
    const text = await write(rows);
    expect(text.split("\n").slice(0, 3)).toEqual(["| ID | Name \\| \\*who\\* | Active? | Born at |", "| ---: | --- | --- | --- |", "| 1 | Ada Lovelace | true | 1815-12-10T00:00:00.000Z |"]);
    expect(rendered(text)).toEqual([
      ["ID", "Name | *who*", "Active?", "Born at"],
      ["1", "Ada Lovelace", "true", "1815-12-10T00:00:00.000Z"],
      ["2.5", "", "false", ""],
      ["3", "", "", ""],
    ]);
  });

  it("shows every value exactly, whatever markup, pipes, line breaks or HTML it holds", async () => {
    const nasty = [
      "a | b || c",
      "*emphasis* _under_ **strong** ~~strike~~",
      "`code` ``double``",
      "[link](http://example.org) ![img](x.png) <http://auto.link>",
      "<script>alert(1)</script> <b>bold</b> &amp; &#65; &copy",
      "line one\nline two\r\nline three\rend",
      "back\\slash \\| \\* trailing\\",
      "# not a heading",
      "  spaces around  ".trim(),
      "emoji 😀 CJK 漢字 RTL שלום",
      "{braces} (parens) + plus ! bang",
    ];
    const text = await write(nasty.map((name, i) => ({ id: i, name })));
    expect(text).not.toContain("<script>");
    const cells = rendered(text)
      .slice(1)
      .map((row) => row[1]);
    expect(cells).toEqual(nasty.map((n) => n.replace(/\r\n|\r/g, "\n")));
  });

  it("writes the same text as formatCell for numbers, booleans and dates, left-aligning numbers when asked", async () => {
    const row: Row = { id: -1e21, name: "x", active: true, born: new Date("2024-02-29T23:59:59.999Z") };
    const text = await write([row], { alignNumbers: false });
    expect(text.split("\n")[1]).toBe("| --- | --- | --- | --- |");
    expect(rendered(text)[1]).toEqual(columns.map((c) => formatCell(row[c.key]) ?? ""));
  });

  it("writes the header alone for no records, and refuses an unknown option", async () => {
    expect(rendered(await write([]))).toEqual([["ID", "Name | *who*", "Active?", "Born at"]]);
    expect(markdown.options.safeParse({ alignNumbers: "yes" }).success).toBe(false);
  });
});
