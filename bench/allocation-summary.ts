/**
 * Summarises an allocation profile written by `npm run bench -- --alloc-prof`
 * (bench/lib/allocation-sampling.cjs): what the process allocated in all, and
 * by function (self) and by stack, largest first — with `--rows N`, also in
 * bytes a row.
 *
 *   tsx bench/allocation-summary.ts bench/results/profiles/<service>-<pid>.heapprofile [--rows 100000] [--top 25]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { rows: { type: "string" }, top: { type: "string", default: "25" } } });
const [file] = positionals;
if (!file) {
  process.stderr.write("usage: tsx bench/allocation-summary.ts <file.heapprofile> [--rows N] [--top 25]\n");
  process.exit(2);
}
const rows = values.rows === undefined ? undefined : Number(values.rows);
const top = Number(values.top);
const profile = JSON.parse(readFileSync(file, "utf8")) as { head: ProfileNode };

const bySelf = new Map<string, number>();
const byStack = new Map<string, number>();
let total = 0;
function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || "(anonymous)"} ${url.replace(/^.*\/(node_modules|dist)\//, "$1/")}:${lineNumber + 1}`;
}
function walk(node: ProfileNode, stack: string[]): void {
  const name = frameName(node);
  const here = [...stack, name];
  total += node.selfSize;
  bySelf.set(name, (bySelf.get(name) ?? 0) + node.selfSize);
  if (node.selfSize > 0) {
    const key = here.slice(-4).reverse().join("  <-  ");
    byStack.set(key, (byStack.get(key) ?? 0) + node.selfSize);
  }
  for (const child of node.children) walk(child, here);
}
walk(profile.head, []);

const share = (bytes: number) => `${((100 * bytes) / total).toFixed(1).padStart(5)} %${rows ? `  ${(bytes / rows).toFixed(0).padStart(5)} B/row` : ""}`;
process.stdout.write(`${file}: ${(total / 1e6).toFixed(1)} MB allocated${rows ? `, ${(total / rows / 1024).toFixed(2)} KiB a row over ${rows} rows` : ""}\n\nby function (self):\n`);
for (const [name, bytes] of [...bySelf].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${share(bytes)}  ${name}\n`);
process.stdout.write("\nby stack (innermost first, four frames):\n");
for (const [stack, bytes] of [...byStack].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${share(bytes)}  ${stack}\n`);
