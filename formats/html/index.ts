/**
 * HTML table: an export to look at in a browser, print or paste into a
 * document. Export only — an HTML page is no format to import from.
 */
import { definePlugin } from "@data-exchange/format-sdk";
import { writeHtml } from "./html-writer.js";
import { htmlOptions, type HtmlOptions } from "./options.js";

export default definePlugin<HtmlOptions>({
  name: "html",
  title: "HTML table",
  extensions: ["html", "htm"],
  mimeType: "text/html",
  shape: "tabular",
  audience: "human",
  options: htmlOptions,
  write: writeHtml,
});
