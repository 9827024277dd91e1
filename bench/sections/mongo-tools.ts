/**
 * The MongoDB Database Tools on the same data: mongoexport and mongoimport,
 * built from the Go module github.com/mongodb/mongo-tools at a pinned version
 * into ~/.cache/data-exchange/mongo-tools-<version>/ (a bench tool only, never
 * a product dependency). When the build cannot happen, the rows say why with
 * the build's own error, and the rest of the run goes on.
 */
import { execFile } from "node:child_process";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { once } from "node:events";
import { stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { EXPORT_DB, IMPORT_DB, resetImportSessions, type BenchContext } from "../lib/context.js";
import { SESSION_COLUMNS } from "../lib/data.js";
import type { Sample, Variant } from "../lib/rounds.js";
import type { Parties } from "./e2e.js";

export const MONGO_TOOLS_VERSION = "100.10.0";
const MODULE = "github.com/mongodb/mongo-tools";
const GO = existsSync("/usr/local/go/bin/go") ? "/usr/local/go/bin/go" : "go";

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; ms: number; maxRssKb?: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}`, ms: performance.now() - t0 });
    });
    void child;
  });
}

/** Builds mongoexport and mongoimport once; returns their directory or the build's error. */
export async function buildMongoTools(log: (m: string) => void): Promise<{ dir: string } | { error: string }> {
  const dir = join(homedir(), ".cache/data-exchange", `mongo-tools-${MONGO_TOOLS_VERSION}`);
  if (existsSync(join(dir, "mongoexport")) && existsSync(join(dir, "mongoimport"))) return { dir };
  log(`building mongoexport and mongoimport ${MONGO_TOOLS_VERSION} with go install into ${dir}`);
  for (const tool of ["mongoexport", "mongoimport"]) {
    const r = await run(GO, ["install", `${MODULE}/${tool}@${MONGO_TOOLS_VERSION}`], { GOBIN: dir, CGO_ENABLED: "0" });
    if (r.code !== 0) {
      // The tags are not Go semver (100.x.y, r100.x.y): go install may refuse them; try the module download route too.
      const d = await run(GO, ["mod", "download", "-json", `${MODULE}@r${MONGO_TOOLS_VERSION}`]);
      const error = `go install ${MODULE}/${tool}@${MONGO_TOOLS_VERSION}: ${r.out.trim()}${d.code !== 0 ? `; go mod download ${MODULE}@r${MONGO_TOOLS_VERSION}: ${(/"Error": "([^"]+)"/.exec(d.out)?.[1] ?? d.out).trim()}` : ""}`;
      return { error };
    }
  }
  return { dir };
}

/** mongoimport types CSV columns only from a typed header, so it gets a copy of the file with one. */
async function typedHeaderCopy(file: string, out: string): Promise<void> {
  const types: Record<string, string> = { string: "string()", timestamp: "date(2006-01-02T15:04:05.000Z)", number: "double()" };
  const header = SESSION_COLUMNS.map((c) => `${c.key}.${types[c.type]}`).join(",");
  const w = createWriteStream(out);
  let first = true;
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    const text = first ? header : line;
    first = false;
    if (!w.write(`${text}\n`)) await once(w, "drain");
  }
  w.end();
  await once(w, "close");
}

function sampleFrom(r: { code: number; out: string; ms: number }, what: string, records: number, bytes: number): Sample {
  if (r.code !== 0) throw new Error(`${what} failed: ${r.out.slice(-1500)}`);
  return { records, bytes, ms: r.ms, rss: {} };
}

export async function toolParties(ctx: BenchContext): Promise<Parties> {
  const built = await buildMongoTools(ctx.log);
  if ("error" in built) {
    ctx.log(`mongo-tools not available: ${built.error}`);
    return { available: false, label: "mongo-tools", why: `could not build the MongoDB Database Tools ${MONGO_TOOLS_VERSION}: ${built.error.replace(/\s+/g, " ")}` };
  }
  const { dir } = built;
  const uri = (db: string) => `${ctx.uri.replace(/\/$/, "")}/${db}`;
  return {
    available: true,
    label: "mongo-tools",
    exportVariants: () => [
      {
        id: "mongoexport",
        async run() {
          const out = join(ctx.tmp, "mongoexport.csv");
          const r = await run(join(dir, "mongoexport"), [`--uri=${uri(EXPORT_DB)}`, "--collection=sessions", "--type=csv", `--fields=${SESSION_COLUMNS.map((c) => c.key).join(",")}`, `--out=${out}`, "--quiet"]);
          return sampleFrom(r, "mongoexport", ctx.options.n, existsSync(out) ? (await stat(out)).size : 0);
        },
      },
    ],
    importVariants: (mode, file, rows) => {
      if (mode !== "insert") return [];
      const typed = `${file}.typed.csv`;
      return [
        {
          id: "mongoimport",
          async prepare() {
            await resetImportSessions(ctx);
            if (!existsSync(typed)) await typedHeaderCopy(file, typed);
          },
          async run() {
            const r = await run(join(dir, "mongoimport"), [`--uri=${uri(IMPORT_DB)}`, "--collection=sessions", "--type=csv", "--headerline", "--columnsHaveTypes", "--ignoreBlanks", `--file=${typed}`, "--quiet"]);
            return sampleFrom(r, "mongoimport", rows, (await stat(typed)).size);
          },
        },
      ];
    },
  };
}
