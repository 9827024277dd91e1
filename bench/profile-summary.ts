/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --cpu-prof`, written
 * under bench/results/profiles/): self time by function and by package or
 * source folder, so a slow row points at its cause.
 *
 *   tsx bench/profile-summary.ts bench/results/profiles/<file>.cpuprofile [top]
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write("usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]\n");
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

function area(url: string): string {
  if (!url) return "(native/vm)";
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith("node:")) return url;
  const repo = /\/work\/[^/]+\/(.*)$/.exec(url.replace("file://", ""));
  return repo ? repo[1]!.split("/").slice(0, -1).join("/") || repo[1]! : url;
}

const fns = new Map<string, number>();
const areas = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  const { functionName, url, lineNumber } = node.callFrame;
  const key = `${functionName || "(anonymous)"} ${url.replace(/^.*\/(node_modules|work\/[^/]+)\//, "")}:${lineNumber + 1}`;
  fns.set(key, (fns.get(key) ?? 0) + us);
  areas.set(area(url), (areas.get(area(url)) ?? 0) + us);
}
const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
process.stdout.write(`${file}: ${(total / 1e6).toFixed(1)} s sampled (wall ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s)\n\nby area:\n`);
for (const [k, us] of [...areas].sort((a, b) => b[1] - a[1]).slice(0, 15)) process.stdout.write(`  ${pct(us)}  ${k}\n`);
process.stdout.write(`\nby function (self):\n`);
for (const [k, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${pct(us)}  ${k}\n`);
