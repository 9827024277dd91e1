/**
 * `npm run new-format -- <name> [--read] [--write] [--tabular|--document] [--dir <folder>]`
 *
 * Scaffolds a format plugin folder that already works: it streams, reports
 * its header, rows over the size limit and malformed lines by number, and
 * passes the contract suite as generated (`npm run test:plugin -- <folder>`),
 * so a team starts from green and changes the encoding to its own format.
 * Without --read or --write it makes both; without a shape, tabular.
 *
 * The starter encoding is deliberately simple and lossless — tabular: one
 * line per row, cells separated by tabs, each cell a JSON value (an empty
 * cell is a missing value); document: one JSON object per line — so what is
 * left to write is the format itself, not the plumbing.
 *
 * A folder outside formats/ also gets a package.json depending on the SDK
 * package (`@data-exchange/format-sdk`) by path; run `npm install` there.
 */
import { existsSync, mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const formatsDir = join(repo, "formats");
const sdkDir = join(formatsDir, "_sdk");

function usage(message: string): never {
  process.stderr.write(`new-format: ${message}\nusage: npm run new-format -- <name> [--read] [--write] [--tabular|--document] [--dir <folder>]\n`);
  process.exit(2);
}

/** The files of a new plugin, by name relative to its folder. */
export function scaffoldFiles(name: string, opts: { read: boolean; write: boolean; shape: "tabular" | "document"; standalone: boolean; sdkPath: string }): Record<string, string> {
  const title = name.toUpperCase();
  const files: Record<string, string> = {};
  files["index.ts"] = `/**
 * ${title}: <say what the format is, who uses it and why a file of it is exchanged>.
 * Scaffolded by \`npm run new-format\`; the contract suite runs it with
 * \`npm run test:plugin -- <this folder>\`.
 */
import { definePlugin } from "@data-exchange/format-sdk";
import { ${name.replace(/-./g, (m) => m[1]!.toUpperCase())}Options, type Options } from "./options.js";
${opts.read ? `import { read } from "./reader.js";\n` : ""}${opts.write ? `import { write } from "./writer.js";\n` : ""}
export default definePlugin<Options>({
  name: ${JSON.stringify(name)},
  title: ${JSON.stringify(`${title} (describe it in a few words)`)},
  extensions: [${JSON.stringify(name.replace(/-/g, ""))}],
  mimeType: "application/octet-stream",
  shape: ${JSON.stringify(opts.shape)},
  // "human" files show column labels (and should escape formulas); "machine" files keys.
  audience: "machine",
  options: ${name.replace(/-./g, (m) => m[1]!.toUpperCase())}Options,
  version: "0.1.0",
${opts.write ? "  write,\n" : ""}${opts.read ? "  read,\n" : ""}});
`;
  files["options.ts"] = `/** The options of the ${name} format: every field needs a default, so that parse({}) is the whole configuration. */
import { z } from "zod";

export const ${name.replace(/-./g, (m) => m[1]!.toUpperCase())}Options = z.object({});

export type Options = z.infer<typeof ${name.replace(/-./g, (m) => m[1]!.toUpperCase())}Options>;
`;
  if (opts.write) {
    files["writer.ts"] =
      opts.shape === "tabular"
        ? `/**
 * Writes the header line, then one line per row: cells separated by tabs, each
 * a JSON value (an empty cell is a missing value). One chunk per batch, so the
 * file streams in flat memory.
 */
import { type Row, type WriteContext } from "@data-exchange/format-sdk";
import type { Options } from "./options.js";

function cell(value: unknown): string {
  if (value === undefined) return "";
  return JSON.stringify(value instanceof Date ? value.toISOString() : value);
}

export async function* write(rows: AsyncIterable<Row[]>, ctx: WriteContext<Options>): AsyncGenerator<Uint8Array> {
  const names = ctx.columns.map((c) => (ctx.useLabels ? c.label : c.key));
  yield Buffer.from(names.map((n) => JSON.stringify(n)).join("\\t") + "\\n", "utf8");
  for await (const batch of rows) {
    let out = "";
    for (const row of batch) out += ctx.columns.map((c) => cell(row[c.key])).join("\\t") + "\\n";
    if (out) yield Buffer.from(out, "utf8");
  }
}
`
        : `/** Writes one JSON object per line, one chunk per batch, so the file streams in flat memory. */
import { projectRow, type Row, type WriteContext } from "@data-exchange/format-sdk";
import type { Options } from "./options.js";

export async function* write(rows: AsyncIterable<Row[]>, ctx: WriteContext<Options>): AsyncGenerator<Uint8Array> {
  for await (const batch of rows) {
    let out = "";
    for (const row of batch) out += JSON.stringify(projectRow(row, ctx.columns, ctx.useLabels)) + "\\n";
    if (out) yield Buffer.from(out, "utf8");
  }
}
`;
  }
  if (opts.read) {
    files["reader.ts"] =
      opts.shape === "tabular"
        ? `/**
 * Reads the header line (reported before any row), then one row per line.
 * Lines are split on bytes by the SDK's readLines, which never holds more
 * than one line and reports a line over the size limit without keeping it; a
 * line that does not parse is a row error and reading goes on.
 */
import { FormatError, notUtf8, readLines, type LineItem, type ReadContext, type ReadItem } from "@data-exchange/format-sdk";
import type { Options } from "./options.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

function cells(text: string): unknown[] {
  return text.split("\\t").map((cell) => (cell === "" ? undefined : JSON.parse(cell)));
}

export async function* read(input: AsyncIterable<Uint8Array>, ctx: ReadContext<Options>): AsyncGenerator<ReadItem[]> {
  let names: string[] | undefined;
  let row = 0;
  const convert = (lines: LineItem[]): ReadItem[] => {
    const items: ReadItem[] = [];
    for (const item of lines) {
      if (names === undefined) {
        if (item.kind === "oversize") throw new FormatError(\`the header line is larger than \${ctx.limits.maxRowBytes} bytes\`, { line: item.line });
        let header: unknown[];
        try {
          header = cells(utf8.decode(item.bytes));
        } catch (error) {
          throw new FormatError(\`the header line is not a list of column names: \${(error as Error).message}\`, { line: item.line });
        }
        if (header.length > ctx.limits.maxColumns) throw new FormatError(\`the file has \${header.length} columns, more than \${ctx.limits.maxColumns}\`, { line: item.line });
        names = header.map((n, i) => (typeof n === "string" && n !== "" ? n : \`column_\${i + 1}\`));
        items.push({ kind: "header", header: { names, line: item.line } });
        continue;
      }
      row++;
      if (item.kind === "oversize") {
        items.push({ kind: "error", error: { row, line: item.line, reason: \`line is larger than \${ctx.limits.maxRowBytes} bytes\` } });
        continue;
      }
      try {
        const values: Record<string, unknown> = {};
        cells(utf8.decode(item.bytes)).forEach((value, i) => {
          if (i >= names!.length) throw new Error(\`cell \${i + 1} has no column (the header names \${names!.length})\`);
          if (value !== undefined) values[names![i]!] = value;
        });
        items.push({ kind: "row", row: { row, line: item.line, values } });
      } catch (error) {
        const reason = error instanceof TypeError ? notUtf8(item.bytes) : (error as Error).message;
        items.push({ kind: "error", error: { row, line: item.line, reason } });
      }
    }
    return items;
  };
  for await (const lines of readLines(input, ctx.limits.maxRowBytes)) {
    const items = convert(lines);
    if (items.length > 0) yield items;
  }
  if (names === undefined) throw new FormatError("the file has no header row", { line: 1 });
}
`
        : `/**
 * Reads one JSON object per line. Lines are split on bytes by the SDK's
 * readLines, which never holds more than one line and reports a line over
 * the size limit without keeping it; a line that does not parse is a row error
 * and reading goes on.
 */
import { isJsonObject, jsonKind, notUtf8, readLines, tooManyKeys, type ReadContext, type ReadItem } from "@data-exchange/format-sdk";
import type { Options } from "./options.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

export async function* read(input: AsyncIterable<Uint8Array>, ctx: ReadContext<Options>): AsyncGenerator<ReadItem[]> {
  let row = 0;
  for await (const lines of readLines(input, ctx.limits.maxRowBytes)) {
    const items: ReadItem[] = [];
    for (const item of lines) {
      if (item.kind === "line" && item.bytes.length === 0) continue; // blank lines separate, they are not rows
      row++;
      if (item.kind === "oversize") {
        items.push({ kind: "error", error: { row, line: item.line, reason: \`line is larger than \${ctx.limits.maxRowBytes} bytes\` } });
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(utf8.decode(item.bytes));
      } catch (error) {
        items.push({ kind: "error", error: { row, line: item.line, reason: error instanceof TypeError ? notUtf8(item.bytes) : (error as Error).message } });
        continue;
      }
      const wide = isJsonObject(value) ? tooManyKeys(value, ctx.limits.maxColumns) : \`expected an object, got \${jsonKind(value)}\`;
      if (wide !== undefined) items.push({ kind: "error", error: { row, line: item.line, reason: wide } });
      else items.push({ kind: "row", row: { row, line: item.line, values: value as Record<string, unknown> } });
    }
    if (items.length > 0) yield items;
  }
}
`;
    files["contract-fixtures.ts"] = `/** Malformed ${name} input the contract suite feeds to this plugin, with the rows a user should see reported. */
import type { ContractFixture } from "@data-exchange/format-sdk";

export const contractFixtures: ContractFixture[] = [
  {
    name: "a line that does not parse is a row error and the next line still imports",
    input: ${opts.shape === "tabular" ? `'"id"\\n1\\n{oops\\n3\\n'` : `'{"id":1}\\n{oops\\n{"id":3}\\n'`},
    rows: 2,
    errors: [{ row: 2, line: ${opts.shape === "tabular" ? 3 : 2} }],
  },
];
`;
  }
  files["README.md"] = `# ${name}

<What the format is, a link to its definition, and who sends or receives such files.>

- Reads: ${opts.read ? "yes" : "no"}; writes: ${opts.write ? "yes" : "no"}; shape: ${opts.shape}.
- Options: none yet (\`options.ts\`).
- Test: \`npm run test:plugin -- <this folder>\` (from the Data Exchange checkout) runs the contract suite in-thread and in a format worker.
`;
  if (opts.standalone) {
    files["package.json"] = `${JSON.stringify(
      {
        name: `dx-format-${name}`,
        version: "0.1.0",
        private: true,
        type: "module",
        description: `The ${name} format plugin for Data Exchange.`,
        dependencies: { "@data-exchange/format-sdk": `file:${opts.sdkPath}` },
        peerDependencies: { zod: "^4.0.0" },
      },
      null,
      2,
    )}\n`;
  }
  return files;
}

function main(): void {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { read: { type: "boolean" }, write: { type: "boolean" }, tabular: { type: "boolean" }, document: { type: "boolean" }, dir: { type: "string" } },
    });
  } catch (error) {
    usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) usage(positionals.length === 0 ? "give the format's name" : `one name only, not ${positionals.join(" ")}`);
  const name = positionals[0]!;
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) usage(`the name ${JSON.stringify(name)} must be lowercase letters, digits and dashes (it is the format's id in URLs)`);
  if (values.tabular && values.document) usage("--tabular or --document, not both");
  const both = !values.read && !values.write;
  const root = resolve(values.dir ?? formatsDir);
  const folder = join(root, name);
  if (existsSync(folder)) usage(`${folder} already exists`);
  const standalone = relative(formatsDir, root) !== "";
  const files = scaffoldFiles(name, { read: both || !!values.read, write: both || !!values.write, shape: values.document ? "document" : "tabular", standalone, sdkPath: sdkDir });
  mkdirSync(folder, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(folder, file), text);
  process.stdout.write(
    `created ${folder}: ${Object.keys(files).join(", ")}\n` +
      (standalone
        ? `next: cd ${root === folder ? folder : folder} && npm install, then npm run test:plugin -- ${folder} (from ${repo}), and add ${root} to pluginDirs\n`
        : `next: npm run test:plugin -- ${folder}\n`),
  );
}

// Run as a script (through a symlinked checkout too), not when a test imports scaffoldFiles.
if (process.argv[1] && realpathSync(resolve(process.argv[1])) === realpathSync(fileURLToPath(import.meta.url))) main();
