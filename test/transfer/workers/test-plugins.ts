/**
 * Deliberately broken (and one watched) format plugins, written by the tests
 * into a plugin folder of their own, to prove that a plugin running in a
 * format worker can fail only its own job.
 *
 * The folder is created under the repository's `.cache/` (git-ignored), not
 * the system temp directory: a worker thread resolves `zod` and the SDK with
 * Node's own resolution, from the plugin's location, as the service does in
 * production.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const SDK = JSON.stringify(join(REPO, "formats/_sdk/index.ts"));

/** The BroadcastChannel on which the `watched` plugin reports, from its worker, that its finally blocks ran. */
export const WATCHED_CHANNEL = "dx-test-watched-plugin";

function plugin(name: string, body: string, imports = "", options = "z.object({})"): string {
  return [
    'import { z } from "zod";',
    `import { FormatError } from ${SDK};`,
    imports,
    "/** A test plugin (test/transfer/workers/test-plugins.ts). */",
    "export default {",
    `  name: ${JSON.stringify(name)}, title: ${JSON.stringify(`Test plugin ${name}`)}, extensions: [${JSON.stringify(name.replaceAll("-", ""))}], mimeType: "text/plain",`,
    `  shape: "tabular", audience: "machine", options: ${options},`,
    body,
    "};",
    "void FormatError;",
  ].join("\n");
}

/** Writes one line per row: the row's values in column order. */
const firstBatchAsText = `
    const first = await it.next();
    if (!first.done) yield Buffer.from(first.value.map((r) => ctx.columns.map((c) => String(r[c.key] ?? "")).join(" ") + "\\n").join(""));`;

export const TEST_PLUGINS: Record<string, string> = {
  /** Writes its first batch, then throws; reads one row, then throws a FormatError at row 2. */
  throws: plugin(
    "throws",
    `
  async *write(rows, ctx) {
    const it = rows[Symbol.asyncIterator]();${firstBatchAsText}
    throw new Error("the throws plugin broke on purpose after one batch");
  },
  async *read(input) {
    for await (const _chunk of input) {
      yield [{ kind: "row", row: { row: 1, line: 2, values: { email: "first@example.org", username: "first" } } }];
      throw new FormatError("the second record is broken on purpose", { row: 2, line: 3 });
    }
  },`,
  ),
  /** Writes its first batch, then spins in an endless loop (the thread's event loop never turns again). */
  spins: plugin(
    "spins",
    `
  async *write(rows, ctx) {
    const it = rows[Symbol.asyncIterator]();${firstBatchAsText}
    for (;;) {}
  },`,
  ),
  /** Writes its first batch, then waits for a promise that never settles (the event loop is free, the job is stuck). */
  stalls: plugin(
    "stalls",
    `
  async *write(rows, ctx) {
    const it = rows[Symbol.asyncIterator]();${firstBatchAsText}
    await new Promise(() => undefined);
  },`,
  ),
  /** Allocates until its heap is exhausted. */
  hogs: plugin(
    "hogs",
    `
  async *write(rows) {
    const hoard = [];
    for await (const batch of rows) {
      for (;;) hoard.push(new Array(100_000).fill(batch.length));
    }
    yield Buffer.from(String(hoard.length));
  },`,
  ),
  /** Throws from a timer, outside its iterators: an uncaught exception in its thread. */
  crashes: plugin(
    "crashes",
    `
  async *write(rows) {
    setTimeout(() => { throw new Error("the crashes plugin threw outside its iterators"); }, 0);
    for await (const batch of rows) yield Buffer.from(String(batch.length));
  },`,
  ),
  /** Loads on the main thread, refuses to load in a worker. */
  "main-only": plugin(
    "main-only",
    `
  async *write(rows) {
    for await (const batch of rows) yield Buffer.from(String(batch.length));
  },`,
    'import { isMainThread } from "node:worker_threads";\nif (!isMainThread) throw new Error("main-only refuses to load in a worker thread");',
  ),
  /** Its parsed options hold a function, which cannot be sent to a worker. */
  "odd-options": plugin(
    "odd-options",
    `
  async *write(rows, { options }) {
    for await (const batch of rows) yield Buffer.from(String(options.format(batch.length)));
  },`,
    "",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the plugin's source, which holds a template literal
    "z.object({}).transform(() => ({ format: (n) => `${n} rows` }))",
  ),
  /** Yields text instead of bytes. */
  "yields-text": plugin(
    "yields-text",
    `
  async *write(rows) {
    for await (const batch of rows) yield String(batch.length);
  },`,
  ),
  /** Loads on the main thread; in a worker its module never finishes loading. */
  "loads-forever": plugin(
    "loads-forever",
    `
  async *write(rows) {
    for await (const batch of rows) yield Buffer.from(String(batch.length));
  },`,
    'import { isMainThread } from "node:worker_threads";\nif (!isMainThread) await new Promise(() => undefined);',
  ),
  /** Writes one line per batch and reads one row per chunk; says on a BroadcastChannel when its finally blocks ran. */
  watched: plugin(
    "watched",
    `
  async *write(rows) {
    try {
      for await (const batch of rows) yield Buffer.from(batch.length + "\\n");
    } finally {
      const channel = new BroadcastChannel(${JSON.stringify(WATCHED_CHANNEL)});
      channel.postMessage("write closed");
      channel.close();
    }
  },
  async *read(input) {
    let row = 0;
    try {
      for await (const chunk of input) yield [{ kind: "row", row: { row: ++row, values: { bytes: String(chunk.byteLength) } } }];
    } finally {
      const channel = new BroadcastChannel(${JSON.stringify(WATCHED_CHANNEL)});
      channel.postMessage("read closed");
      channel.close();
    }
  },`,
  ),
};

export interface TestPluginFolder {
  dir: string;
  remove(): void;
}

/** Writes `names` (default: all of {@link TEST_PLUGINS}) into a fresh plugin folder. */
export function writeTestPlugins(names: string[] = Object.keys(TEST_PLUGINS)): TestPluginFolder {
  mkdirSync(join(REPO, ".cache"), { recursive: true });
  const dir = mkdtempSync(join(REPO, ".cache", "test-plugins-"));
  for (const name of names) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, "index.ts"), TEST_PLUGINS[name]!);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
