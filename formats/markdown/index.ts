/**
 * Markdown table (GitHub Flavored Markdown): an export to paste into an
 * issue, a wiki page or a README. Export only. Scaffolded by
 * `npm run new-format -- markdown --write --tabular` and then given its
 * writer — the worked example in formats/README.md.
 */
import { definePlugin } from "@data-exchange/format-sdk";
import { markdownOptions, type Options } from "./options.js";
import { write } from "./writer.js";

export default definePlugin<Options>({
  name: "markdown",
  title: "Markdown table (GitHub Flavored Markdown)",
  extensions: ["md", "markdown"],
  mimeType: "text/markdown",
  shape: "tabular",
  audience: "human",
  options: markdownOptions,
  write,
});
