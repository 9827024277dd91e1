/**
 * The contract every format plugin in formats/ must meet. Plugins are found
 * with the same discovery the service uses, so a new plugin folder is tested
 * the moment it exists; malformed samples only a plugin can produce come from
 * its optional `contract-fixtures.ts`.
 *
 * Every plugin runs the suite twice: in-thread, and through its
 * worker-backed proxy (services/transfer/plugins/workers), which must be
 * indistinguishable to the core — same rows, same row errors, the same
 * FormatError with the same position, flat memory on both sides of the
 * thread boundary. The workers' heap limit is kept low (64 MiB) so that a
 * worker running ahead of its consumer would run out of memory here.
 */
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { coerceCell, toTabularRow, type Column, type ContractFixture, type FormatPlugin, type Row } from "../../formats/_sdk/index.js";
import { defaultFormatsDir, discoverPlugins } from "../../services/transfer/plugins/index.js";
import { formatWorkersSchema } from "../../services/transfer/config/transfer-config.js";
import { runsInWorkers, startFormatWorkers } from "../../services/transfer/plugins/workers/index.js";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
import { readAll, writeAll, type ReadResult } from "./support.js";

/**
 * Which plugins: every one in formats/, or — for `npm run test:plugin --
 * <folder>` (scripts/test-plugin.mjs) — the plugin folders under the
 * directories in DX_CONTRACT_PLUGIN_DIRS (path-delimited), only those named in
 * DX_CONTRACT_PLUGINS when set.
 */
const pluginDirs = process.env.DX_CONTRACT_PLUGIN_DIRS?.split(delimiter).filter(Boolean) ?? [defaultFormatsDir()];
const only = process.env.DX_CONTRACT_PLUGINS?.split(",").filter(Boolean);
/**
 * DX_TEST_SKIP_MILLION_ROWS=1 leaves out the million-row case (about 340 s of
 * the suite, 75–88 s for ODS alone): `.ci/run` sets it for `npm test` and its
 * second runtime, and runs the case alone beside them (`-t "streams a million
 * rows"`) under the Node version the services run on, so every plugin still
 * streams a million rows in every CI run.
 */
const skipMillionRows = process.env.DX_TEST_SKIP_MILLION_ROWS === "1";
const discovered = await discoverPlugins(pluginDirs);
if (only) {
  for (const name of [...discovered.plugins.keys()]) if (!only.includes(name)) discovered.plugins.delete(name);
  discovered.failures = discovered.failures.filter((f) => only.includes(f.name));
}
const plugins = [...discovered.plugins.values()];
const workers = await startFormatWorkers(discovered, formatWorkersSchema.parse({ mode: "workers", poolSize: 2, memoryLimitMb: 64 }));
afterAll(() => workers.close());
const proxies = [...workers.plugins.plugins.values()];
/** [name, where it runs, the plugin as the core sees it] for every plugin, in-thread and in a worker. */
const variants = [...plugins.map((p) => [p.name, "in-thread", p] as const), ...proxies.map((p) => [p.name, "in a format worker", p] as const)];

async function fixturesOf(plugin: FormatPlugin): Promise<ContractFixture[]> {
  const file = join(discovered.dirs.get(plugin.name)!, "contract-fixtures.ts");
  if (!existsSync(file)) return [];
  const mod = (await import(pathToFileURL(file).href)) as { contractFixtures?: ContractFixture[] };
  return mod.contractFixtures ?? [];
}

const columns: Column[] = [
  { key: "id", label: "ID", type: "number" },
  { key: "name", label: "Full name", type: "string" },
  { key: "active", label: "Active?", type: "boolean" },
  { key: "born", label: "Born at", type: "timestamp" },
  { key: "score", label: "Score", type: "number" },
  { key: "tags", label: "Tags", type: "string_list" },
  { key: "meta", label: "Meta data", type: "object" },
  { key: "sessions", label: "Sessions", type: "object_list" },
];

const typedRows: Row[] = [
  {
    id: 1,
    name: "Ada Lovelace",
    active: true,
    born: new Date("1815-12-10T00:00:00.000Z"),
    // biome-ignore lint/suspicious/noApproximativeNumericConstant: a value with few digits, shown as written
    score: 3.14159,
    tags: ["math", "poetry"],
    meta: { x: 1, nested: { y: "z" } },
    sessions: [{ id: 1, room: "A" }],
  },
  { id: -42, name: "", active: false, born: new Date("2024-02-29T23:59:59.999Z"), score: -5e-8, tags: [], meta: {}, sessions: [] },
  { id: 9007199254740991 }, // every other cell missing
  { id: 4, name: "emoji 😀👩‍👩‍👧, CJK 漢字かな, combining e\u0301 and a\u030A, RTL שלום مرحبا", score: 1e21 },
  { id: 5, name: "line one\nline two\r\nline three\rend", score: 0 },
  { id: 6, name: `comma, semicolon; tab\t pipe| quote " apostrophe ' backslash \\ doubled ""`, score: 123456789.123456 },
  { id: 7, name: "   spaces around   ", active: true, born: new Date("1969-07-20T20:17:40.000Z") },
  { id: 8, name: "null", tags: ["", "a,b", 'q"'], meta: { list: [1, "two", null] } },
];

const formulaRows: Row[] = ["=SUM(A1:A2)", "+1", "-1", "@cmd", "\tleading tab", "=1+1, with a comma"].map((name, i) => ({ id: i + 1, name }));

/** What the core does before a write: tabular plugins only see scalars. */
function prepare(plugin: FormatPlugin, rows: Row[], cols: Column[]): Row[] {
  return plugin.shape === "tabular" ? rows.map((r) => toTabularRow(r, cols)) : rows;
}

/** What the core does after a read: every value typed by its column. */
function typed(result: ReadResult, cols: Column[]): Row[] {
  return result.rows.map(({ values }) => {
    const row: Row = {};
    for (const c of cols) {
      const coerced = coerceCell(values[c.key], c.type);
      if (!coerced.ok) throw new Error(`column ${c.key}: ${coerced.reason}`);
      if (coerced.value !== undefined) row[c.key] = coerced.value;
    }
    return row;
  });
}

async function roundTrip(plugin: FormatPlugin, rows: Row[], options: Record<string, unknown> = {}, cols = columns) {
  const bytes = await writeAll(plugin, prepare(plugin, rows, cols), cols, options);
  const result = await readAll(plugin, bytes, { options, columns: cols });
  return { bytes, result };
}

function withoutMissing(rows: Row[]): Row[] {
  return rows.map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)));
}

describe("format plugin discovery", () => {
  it(`loads every plugin folder in ${pluginDirs.join(", ")} without failures`, () => {
    expect(discovered.failures).toEqual([]);
    expect(plugins.length).toBeGreaterThan(0);
  });

  it("loads every plugin in a format worker too, as a proxy of the same shape", () => {
    expect(workers.plugins.failures).toEqual([]);
    expect(proxies.map((p) => p.name)).toEqual(plugins.map((p) => p.name));
    for (const [i, proxy] of proxies.entries()) {
      const { read, write, ...shape } = plugins[i]!;
      expect(runsInWorkers(proxy)).toBe(true);
      expect(proxy).toMatchObject(shape);
      expect(typeof proxy.read).toBe(typeof read);
      expect(typeof proxy.write).toBe(typeof write);
    }
  });
});

describe.each(variants)("the %s plugin %s", (_name, _where, plugin) => {
  const canRead = plugin.read !== undefined;
  const canWrite = plugin.write !== undefined;
  const both = canRead && canWrite;

  it("has defaults for every option", () => {
    expect(plugin.options.safeParse({}).success).toBe(true);
  });

  it.runIf(both)("reads back typed values it wrote: dates, numbers, booleans, empty vs missing, unicode, line breaks, delimiters and quotes", async () => {
    const { result } = await roundTrip(plugin, typedRows);
    expect(result.errors).toEqual([]);
    expect(result.fatal).toBeUndefined();
    expect(typed(result, columns)).toEqual(withoutMissing(typedRows));
    expect(result.rows.map((r) => r.row)).toEqual(typedRows.map((_, i) => i + 1));
  });

  it.runIf(both)("reads back text starting with = + - @ or a tab when formula escaping is off", async () => {
    const cols = columns.slice(0, 2);
    const { result } = await roundTrip(plugin, formulaRows, { formulaEscape: false }, cols);
    expect(typed(result, cols)).toEqual(formulaRows);
  });

  it.runIf(both)("writes zero rows to a file that reads back as zero rows", async () => {
    const { result } = await roundTrip(plugin, []);
    expect(result.rows).toEqual([]);
    expect(result.errors).toEqual([]);
    expect(result.fatal).toBeUndefined();
  });

  it.runIf(both && plugin.shape === "tabular")("reports the file's header once, before any row, naming every column in file order", async () => {
    for (const rows of [typedRows, []]) {
      const bytes = await writeAll(plugin, prepare(plugin, rows, columns), columns);
      for (const chunkSize of [undefined, 1]) {
        const result = await readAll(plugin, bytes, { chunkSize });
        expect(result.headers, `${rows.length} rows, chunks of ${chunkSize ?? "all"}`).toEqual({ count: 1, itemsBefore: 0 });
        const names = columns.map((c) => (plugin.audience === "human" ? c.label : c.key));
        expect(result.header?.names).toEqual(names);
        // The rows' values are keyed by those names.
        for (const row of result.rows) for (const key of Object.keys(row.values)) expect(names).toContain(key);
      }
    }
  });

  it.runIf(canRead && plugin.shape === "tabular")("refuses an empty input with a FormatError saying the file has no header row (or is empty)", async () => {
    const result = await readAll(plugin, new Uint8Array(0), { columns });
    expect(result.rows).toEqual([]);
    expect(result.fatal?.message).toMatch(/no header row|empty/);
  });

  it.runIf(both)("reads back a single row", async () => {
    const { result } = await roundTrip(plugin, typedRows.slice(0, 1));
    expect(typed(result, columns)).toEqual(typedRows.slice(0, 1));
  });

  it.runIf(canRead && plugin.shape === "document")("reads an empty input as zero rows or refuses it as a whole, never as row errors", async () => {
    const result = await readAll(plugin, new Uint8Array(0), { columns });
    expect(result.rows).toEqual([]);
    expect(result.errors).toEqual([]);
  });

  it.runIf(both)("gives the same rows when the input arrives in 1-byte and 2-byte chunks", async () => {
    const bytes = await writeAll(plugin, prepare(plugin, typedRows, columns), columns);
    const whole = await readAll(plugin, bytes, { columns });
    expect(whole.rows).toHaveLength(typedRows.length);
    for (const size of [1, 2]) {
      expect(await readAll(plugin, bytes, { columns, chunkSize: size })).toEqual(whole);
    }
  });

  it.runIf(canWrite)("writes every row it is given without throwing", async () => {
    const bytes = await writeAll(plugin, prepare(plugin, typedRows, columns), columns);
    expect(bytes.length).toBeGreaterThan(0);
  });

  it.runIf(both)("reports a row over the size limit by its number without holding it, and keeps the others", async () => {
    const rows: Row[] = [
      { id: 1, name: "small" },
      { id: 2, name: "x".repeat(5000) },
      { id: 3, name: "small too" },
    ];
    const cols = columns.slice(0, 2);
    const bytes = await writeAll(plugin, rows, cols);
    for (const chunkSize of [bytes.length, 7]) {
      const result = await readAll(plugin, bytes, { columns: cols, limits: { maxRowBytes: 1000 }, chunkSize });
      const reported = [...result.errors.map((e) => e.row), ...(result.fatal ? [result.fatal.row] : [])];
      expect(reported).toEqual([2]);
      expect(result.rows.map((r) => r.row)).not.toContain(2);
      expect(result.rows.map((r) => r.row)).toContain(1);
    }
  });

  it.runIf(canRead)("reports malformed input with the row numbers a user needs (plugin fixtures)", async () => {
    for (const f of await fixturesOf(plugin)) {
      for (const chunkSize of [undefined, 1]) {
        const result = await readAll(plugin, f.input, { options: f.options, columns: f.columns, chunkSize });
        const label = `${f.name} (chunks of ${chunkSize ?? "all"})`;
        expect(result.rows.length, label).toBe(f.rows);
        expect(
          result.errors.map((e) => (f.errors[0]?.line === undefined ? { row: e.row } : { row: e.row, line: e.line })),
          label,
        ).toEqual(f.errors);
        expect(
          result.errors.every((e) => e.reason.length > 0),
          label,
        ).toBe(true);
        if (f.fatal === undefined) expect(result.fatal, label).toBeUndefined();
        else expect({ row: result.fatal?.row, line: result.fatal?.line }, label).toEqual({ row: f.fatal.row, line: f.fatal.line });
      }
    }
  });

  it.runIf(both && !skipMillionRows)(
    "streams a million rows out and back in flat memory",
    async () => {
      const cols = columns.slice(0, 5);
      const total = 1_000_000;
      const born = new Date("2024-01-01T00:00:00.000Z");
      async function* generate() {
        for (let start = 0; start < total; start += 1000) {
          const batch: Row[] = [];
          for (let i = start; i < start + 1000; i++) batch.push({ id: i, name: `user ${i}`, active: i % 2 === 0, born, score: i / 7 });
          yield batch;
        }
      }
      // Memory is sampled after forced collections: what is retained, not
      // garbage waiting for a lazy GC (Node 24 collects later than Node 20).
      gc();
      const baseline = process.memoryUsage().heapUsed;
      let peak = baseline;
      let batches = 0;
      let bytes = 0;
      async function* tap(source: AsyncIterable<Uint8Array>) {
        for await (const chunk of source) {
          bytes += chunk.length;
          yield chunk;
        }
      }
      const file = tap(plugin.write!(generate(), { columns: cols, options: plugin.options.parse({}), useLabels: plugin.audience === "human" }));
      let rows = 0;
      let errors = 0;
      let last = -1;
      for await (const batch of plugin.read!(file, { options: plugin.options.parse({}), columns: cols, limits: { maxRowBytes: 1 << 16, maxColumns: 100 } })) {
        for (const item of batch) {
          if (item.kind === "row") {
            rows++;
            last = item.row.row;
          } else if (item.kind === "error") errors++;
        }
        if (++batches % 100 === 0) {
          gc();
          peak = Math.max(peak, process.memoryUsage().heapUsed);
        }
      }
      expect(rows).toBe(total);
      expect(errors).toBe(0);
      expect(last).toBe(total);
      expect(bytes).toBeGreaterThan(total * 20); // the file really was ~tens of MB, far above the bound below
      expect(batches).toBeGreaterThan(100); // memory was sampled while streaming
      expect(peak - baseline).toBeLessThan(50 * 1024 * 1024);
    },
    300_000,
  );
});
