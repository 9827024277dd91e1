/**
 * Where FerretDB's CPU goes per record, for each variant of a bench run: the
 * direct import against ours, say. It runs `bench/run.ts` with the arguments
 * given after `--`, takes back-to-back CPU profiles of the bench's FerretDB
 * from its Go debug handler (`/debug/pprof/profile`), gives each profile to
 * the variant whose measured run it lies inside (from the bench's
 * `round i/n <variant>: N in T s` lines, stamped as they arrive), merges them
 * with `go tool pprof` and prints FerretDB's CPU per record by part of its
 * work. Profiles that straddle two runs are dropped; what the kept ones cover
 * is scaled up to the run's whole length.
 *
 * Why: the bench's wall-time ratios say the import is slower than the direct
 * path, and `/proc` says FerretDB is busy during both; only FerretDB's own
 * profile says what it does more per record of ours (bench/README, "The
 * import's gap").
 *
 *   npx tsx bench/checks/ferretdb-profile.ts [--seconds 2] -- --quick --n 100000 --rounds 2 --only import,e2e
 *
 * Needs Go (`go tool pprof`), which building FerretDB needs too.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";

const dash = process.argv.indexOf("--");
const own = dash < 0 ? process.argv.slice(2) : process.argv.slice(2, dash);
const benchArgs = dash < 0 ? ["--quick", "--n", "100000", "--rounds", "2", "--only", "import,e2e"] : process.argv.slice(dash + 1);
const { values } = parseArgs({ args: own, options: { seconds: { type: "string", default: "2" } } });
const seconds = Number(values.seconds);
const go = existsSync("/usr/local/go/bin/go") ? "/usr/local/go/bin/go" : "go";

/** The parts of FerretDB's work reported, as `go tool pprof -top -cum` names them (cumulative time). */
const PARTS: [label: string, pattern: RegExp][] = [
  ["insert command, whole", /handler\.\(\*Handler\)\.MsgInsert$/],
  ["  SQLite transaction (statement + commit)", /backends\/sqlite\.\(\*collection\)\.InsertAll$/],
  ["    of which the commit (WAL write)", /fsql\.\(\*Tx\)\.Commit$/],
  ["  documents to SQLite JSON", /sqlite\.prepareInsertStatement$/],
  ["  request's BSON decoded", /handler\.opMsgDocument$/],
  ["find commands", /handler\.\(\*Handler\)\.MsgFind$/],
  ["getMore commands", /handler\.\(\*Handler\)\.MsgGetMore$/],
  ["update commands", /handler\.\(\*Handler\)\.MsgUpdate$/],
  ["delete commands", /handler\.\(\*Handler\)\.MsgDelete$/],
  ["reading messages off the wire", /wire\.ReadMessage$/],
  ["Go collector, background", /runtime\.gcBgMarkWorker$/],
  ["Go sweeper, background", /runtime\.bgsweep$/],
];

interface Profile {
  file: string;
  start: number;
  end: number;
}
interface Run {
  variant: string;
  records: number;
  start: number;
  end: number;
}

const dir = mkdtempSync(join(tmpdir(), "dx-ferretdb-profile-"));
const profiles: Profile[] = [];
const runs: Run[] = [];
let benchDir: string | undefined;
let done = false;

const bench = spawn(process.execPath, ["--import", "tsx", "bench/run.ts", ...benchArgs], { stdio: ["ignore", "pipe", "pipe"] });
const benchEnded = new Promise<number | null>((resolve) => bench.once("exit", resolve));
/** The bench logs its progress on stderr and its table on stdout: both are passed on, the log read as it comes. */
createInterface({ input: bench.stdout! }).on("line", (line) => process.stdout.write(`${line}\n`));
createInterface({ input: bench.stderr! }).on("line", (line) => {
  const now = Date.now();
  process.stderr.write(`${line}\n`);
  benchDir ??= /FerretDB \w+ in (\S+)/.exec(line)?.[1];
  const round = /round \d+\/\d+ (\S+): (\d+) in ([\d.]+) s =/.exec(line);
  if (round) runs.push({ variant: round[1]!, records: Number(round[2]), start: now - Number(round[3]) * 1000, end: now });
});

/** The bench's FerretDB: its pid and debug port, found by its state directory. */
function benchFerretDb(): { pid: number; port: number } | undefined {
  if (!benchDir) return undefined;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    if (!args.some((a) => a.startsWith(`--state-dir=${benchDir}`))) continue;
    const port = args.map((a) => /^--debug-addr=[^:]+:(\d+)$/.exec(a)?.[1]).find(Boolean);
    if (port) return { pid: Number(entry), port: Number(port) };
  }
  return undefined;
}

async function profileLoop(): Promise<void> {
  let n = 0;
  while (!done) {
    const ferret = benchFerretDb();
    if (!ferret) {
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    const start = Date.now();
    try {
      const response = await fetch(`http://127.0.0.1:${ferret.port}/debug/pprof/profile?seconds=${seconds}`);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const file = join(dir, `p${n++}.pb.gz`);
      writeFileSync(file, Buffer.from(await response.arrayBuffer()));
      profiles.push({ file, start, end: Date.now() });
    } catch {
      await new Promise((r) => setTimeout(r, 250)); // FerretDB restarting or gone
    }
  }
}

const looping = profileLoop();
const code = await benchEnded;
done = true;
await looping;

/** `go tool pprof -top -cum` of some profiles merged: cumulative ms by function, and the total. */
function cumulative(files: string[]): { total: number; byFunction: Map<string, number> } {
  const merged = join(dir, `merged-${Math.random().toString(36).slice(2)}.pb.gz`);
  writeFileSync(merged, execFileSync(go, ["tool", "pprof", "-proto", ...files], { maxBuffer: 1 << 28, stdio: ["ignore", "pipe", "ignore"] }));
  const top = execFileSync(go, ["tool", "pprof", "-top", "-cum", "-unit=ms", "-nodefraction=0", "-nodecount=100000", merged], { maxBuffer: 1 << 28, stdio: ["ignore", "pipe", "ignore"] }).toString();
  const total = Number(/Total samples = ([\d.]+)ms/.exec(top)?.[1] ?? NaN);
  const byFunction = new Map<string, number>();
  for (const line of top.split("\n")) {
    const m = /^\s*[\d.]+(?:ms)?\s+[\d.]+%\s+[\d.]+%\s+([\d.]+)(?:ms)?\s+[\d.]+%\s+(.+)$/.exec(line);
    if (m) byFunction.set(m[2]!.trim(), Number(m[1]));
  }
  return { total, byFunction };
}

const variants = [...new Set(runs.map((r) => r.variant))];
const table: { variant: string; figures: Map<string, number>; note: string }[] = [];
for (const variant of variants) {
  const own = runs.filter((r) => r.variant === variant);
  const inside = profiles.filter((p) => own.some((r) => p.start >= r.start && p.end <= r.end));
  if (inside.length === 0) continue;
  const covered = inside.reduce((s, p) => s + (p.end - p.start), 0);
  const length = own.reduce((s, r) => s + (r.end - r.start), 0);
  const records = own.reduce((s, r) => s + r.records, 0);
  const { total, byFunction } = cumulative(inside.map((p) => p.file));
  /** µs of FerretDB CPU per record: the profiles' ms, scaled to the runs' whole length. */
  const perRecord = (ms: number) => ((ms * (length / covered)) / records) * 1000;
  const figures = new Map<string, number>([["FerretDB CPU, all", perRecord(total)]]);
  for (const [label, pattern] of PARTS) {
    const ms = [...byFunction].filter(([name]) => pattern.test(name)).reduce((s, [, v]) => s + v, 0);
    figures.set(label, perRecord(ms));
  }
  table.push({ variant, figures, note: `${own.length} run(s), ${records} records, ${inside.length} profiles covering ${((covered / length) * 100).toFixed(0)} % of ${(length / 1000).toFixed(0)} s` });
}

process.stdout.write(`\nFerretDB's CPU per record (µs), by part of its work (cumulative: a part includes the parts indented under it)\n`);
for (const t of table) process.stdout.write(`  ${t.variant}: ${t.note}\n`);
const labels = ["FerretDB CPU, all", ...PARTS.map(([l]) => l)];
const width = Math.max(...labels.map((l) => l.length));
process.stdout.write(`\n${"".padEnd(width)}  ${table.map((t) => t.variant.padStart(20)).join("")}\n`);
for (const label of labels) process.stdout.write(`${label.padEnd(width)}  ${table.map((t) => (t.figures.get(label) ?? 0).toFixed(1).padStart(20)).join("")}\n`);
rmSync(dir, { recursive: true, force: true });
process.exit(code ?? 1);
