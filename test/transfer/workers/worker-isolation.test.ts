/**
 * Format workers at plugin level (no services, no database): a plugin that
 * throws, spins, stalls, exhausts its heap or crashes its thread fails only
 * its own job, with an error naming it; its worker is replaced; a good job
 * running beside it completes; and the plugin's input is closed whatever
 * happened.
 */
import { existsSync, readFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FormatError, type Column, type FormatPlugin, type Row } from "../../../formats/_sdk/index.js";
import { formatWorkersSchema } from "../../../services/transfer/config/transfer-config.js";
import { defaultFormatsDir, discoverPlugins } from "../../../services/transfer/plugins/index.js";
import { FormatPluginError, startFormatWorkers, WorkerPool, WorkerPoolClosedError, workerBackedPlugin, type FormatWorkers } from "../../../services/transfer/plugins/workers/index.js";
import { INPUT_WINDOW, OUTPUT_WINDOW } from "../../../services/transfer/plugins/workers/protocol.js";
import { WATCHED_CHANNEL, writeTestPlugins, type TestPluginFolder } from "./test-plugins.js";

const TIME_LIMIT_MS = 3000;
const columns: Column[] = [
  { key: "id", label: "ID", type: "number" },
  { key: "name", label: "Name", type: "string" },
];

let folder: TestPluginFolder;
let workers: FormatWorkers;

beforeAll(async () => {
  folder = writeTestPlugins();
  const discovered = await discoverPlugins([defaultFormatsDir(), folder.dir]);
  workers = await startFormatWorkers(discovered, formatWorkersSchema.parse({ mode: "workers", poolSize: 2, maxWorkers: 4, timeLimitMs: TIME_LIMIT_MS, memoryLimitMb: 64 }));
});
afterAll(async () => {
  await workers?.close();
  folder?.remove();
});

function plugin(name: string): FormatPlugin {
  const found = workers.plugins.plugins.get(name);
  if (!found) throw new Error(`no plugin ${name}: ${JSON.stringify(workers.plugins.failures)}`);
  return found;
}

/** Batches of rows; `closed` tells whether the consumer closed the source (as a records cursor would be). */
function rowSource(batches: number, size = 100) {
  const state = { pulled: 0, closed: false };
  async function* generate(): AsyncGenerator<Row[]> {
    try {
      for (let b = 0; b < batches; b++) {
        state.pulled++;
        yield Array.from({ length: size }, (_, i) => ({ id: b * size + i, name: `row ${b * size + i}` }));
      }
    } finally {
      state.closed = true;
    }
  }
  return { state, rows: generate() };
}

async function writeWith(name: string, rows: AsyncIterable<Row[]>, options?: unknown): Promise<Buffer> {
  const p = plugin(name);
  const parts: Uint8Array[] = [];
  for await (const chunk of p.write!(rows, { columns, options: options ?? p.options.parse({}), useLabels: false })) parts.push(chunk);
  return Buffer.concat(parts);
}

/** Whatever `promise` rejects with (and a failure when it does not). */
async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  if (outcome === undefined) throw new Error("expected the job to fail, but it succeeded");
  return outcome;
}

describe("plugins in format workers", () => {
  it("reports plugins that load on the main thread but not in a worker (one throws, one never finishes) as failed, with their reasons, and serves the others", () => {
    expect(workers.plugins.plugins.has("main-only")).toBe(false);
    expect(workers.plugins.plugins.has("loads-forever")).toBe(false);
    expect(workers.plugins.failures).toEqual([
      expect.objectContaining({ name: "loads-forever", error: "cannot run in a format worker: its module did not finish loading in a worker within 3000 ms (formatWorkers.timeLimitMs)" }),
      expect.objectContaining({ name: "main-only", error: expect.stringContaining("main-only refuses to load in a worker thread") }),
    ]);
    expect([...workers.plugins.plugins.keys()].sort()).toEqual([
      "crashes",
      "csv",
      "hogs",
      "html",
      "json",
      "markdown",
      "ndjson",
      "odd-options",
      "ods",
      "spins",
      "stalls",
      "throws",
      "watched",
      "xlsx",
      "yields-text",
    ]);
  });

  it("fails the job of a plugin that throws with an error naming the plugin, after the bytes it wrote, closes its input, and keeps its worker", async () => {
    const before = workers.pool!.stats();
    const source = rowSource(10);
    const parts: string[] = [];
    const p = plugin("throws");
    const error = await failureOf(
      (async () => {
        for await (const chunk of p.write!(source.rows, { columns, options: {}, useLabels: false })) parts.push(Buffer.from(chunk).toString());
      })(),
    );
    expect(error).toBeInstanceOf(FormatPluginError);
    expect(error).toMatchObject({ plugin: "throws", kind: "failed" });
    expect(error.message).toBe('format plugin "throws" failed: the throws plugin broke on purpose after one batch');
    expect((error.cause as Error).stack).toContain("throws");
    expect(parts.join("").split("\n")[0]).toBe("0 row 0");
    expect(source.state.closed).toBe(true);
    // A throw is contained by the plugin's iterator: no thread had to end.
    expect(workers.pool!.stats().ended).toEqual(before.ended);
  });

  it("fails a job whose parsed options cannot be sent to a worker, naming the plugin, closes its input, and keeps the worker", async () => {
    const before = workers.pool!.stats();
    const p = plugin("odd-options");
    const source = rowSource(3);
    const error = await failureOf(writeWith("odd-options", source.rows, p.options.parse({})));
    expect(error).toBeInstanceOf(FormatPluginError);
    expect(error.message).toMatch(/^format plugin "odd-options" failed: its parsed options cannot be sent to a format worker \(/);
    // Never started, so its finally did not run; but it was closed: it yields nothing more.
    expect(await source.rows.next()).toEqual({ done: true, value: undefined });
    expect(source.state.pulled).toBe(0);
    expect(workers.pool!.stats()).toMatchObject({ ended: before.ended, busy: 0 });
  });

  it("fails the job of a writer that yields text instead of bytes, saying so", async () => {
    const error = await failureOf(writeWith("yields-text", rowSource(3).rows));
    expect(error.message).toBe('format plugin "yields-text" failed: write must yield Uint8Array chunks, not string');
  });

  it("brings a FormatError thrown by a reader in a worker back as a FormatError with its row and line, after the rows before it", async () => {
    const p = plugin("throws");
    const rows: unknown[] = [];
    const error = await failureOf(
      (async () => {
        for await (const items of p.read!(
          (async function* () {
            yield Buffer.from("anything");
          })(),
          { options: {}, limits: { maxRowBytes: 1000, maxColumns: 10 } },
        ))
          rows.push(...items);
      })(),
    );
    expect(error).toBeInstanceOf(FormatError);
    expect(error).toMatchObject({ reason: "the second record is broken on purpose", row: 2, line: 3, message: "the second record is broken on purpose (at row 2, line 3)" });
    expect(rows).toEqual([{ kind: "row", row: { row: 1, line: 2, values: { email: "first@example.org", username: "first" } } }]);
  });

  it("brings an NDJSON reader's numbers as written (numberText) and its duplicate-key row errors back from a worker", async () => {
    const items: unknown[] = [];
    for await (const batch of plugin("ndjson").read!(
      (async function* () {
        yield Buffer.from('{"title":1.50,"n":2}\n{"a":1,"a":2}\n{"n":3}\n');
      })(),
      { options: {}, limits: { maxRowBytes: 1000, maxColumns: 10 } },
    ))
      items.push(...batch);
    expect(items).toEqual([
      { kind: "row", row: { row: 1, line: 1, values: { title: 1.5, n: 2 }, numberText: { title: "1.50" } } },
      { kind: "error", error: { row: 2, line: 2, column: "a", reason: expect.stringMatching(/^duplicate key "a": /) } },
      { kind: "row", row: { row: 3, line: 3, values: { n: 3 } } },
    ]);
  });

  describe.each([
    ["spins", "an endless loop", "timed-out", /^format plugin "spins" timed out: no progress for 3000 ms while writing/],
    ["stalls", "a promise that never settles", "timed-out", /^format plugin "stalls" timed out: no progress for 3000 ms while writing/],
    ["hogs", "allocating until its heap is full", "out-of-memory", /^format plugin "hogs" ran out of memory: its worker reached the heap limit of 64 MiB/],
    ["crashes", "an error thrown outside its iterators", "crashed", /^format plugin "crashes" crashed its format worker: Error: the crashes plugin threw outside its iterators/],
  ] as const)("a plugin stuck in %s", (name, _what, kind, message) => {
    it(`fails only its own job (${kind}) while a good job beside it completes, closes its input, and its worker is replaced`, async () => {
      const before = workers.pool!.stats();
      const bad = rowSource(1_000_000);
      const good = rowSource(200);
      const [failure, written] = await Promise.all([failureOf(writeWith(name, bad.rows)), writeWith("csv", good.rows)]);
      expect(failure).toBeInstanceOf(FormatPluginError);
      expect(failure).toMatchObject({ plugin: name, kind });
      expect(failure.message).toMatch(message);
      expect(bad.state.closed).toBe(true);
      expect(written.toString("utf8").split("\r\n")).toHaveLength(200 * 100 + 2); // header, rows, final empty piece
      const after = workers.pool!.stats();
      expect(after.ended[kind]).toBe(before.ended[kind] + 1);
      // The next job gets a working thread.
      expect((await writeWith("csv", rowSource(3).rows)).toString("utf8")).toContain("row 299");
      expect(workers.pool!.stats().workers).toBeGreaterThan(0);
    });
  });
});

/** Resolves with the next message on the watched plugin's channel (its finally blocks ran in the worker). */
function nextWatchedReport(): { report: Promise<unknown>; close(): void } {
  const channel = new BroadcastChannel(WATCHED_CHANNEL);
  const report = new Promise<unknown>((resolve) => channel.addEventListener("message", (event) => resolve((event as MessageEvent).data), { once: true }));
  return { report, close: () => channel.close() };
}

/** Endless input bytes; `state.pulled` counts chunks taken from it. */
function byteSource() {
  const state = { pulled: 0, closed: false };
  async function* generate(): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        state.pulled++;
        yield Buffer.alloc(1024, 65);
      }
    } finally {
      state.closed = true;
    }
  }
  return { state, input: generate() };
}

/** Long enough for a worker without backpressure to run thousands of batches ahead (nothing here asserts a duration). */
const CHANCE_TO_RUN_AHEAD_MS = 500;

describe("backpressure and cancellation across the thread boundary", () => {
  it("holds a writer back while its consumer is slow: rows are pulled no further ahead than the two credit windows", async () => {
    const source = rowSource(1_000_000);
    const p = plugin("csv");
    const output = p.write!(source.rows, { columns, options: p.options.parse({}), useLabels: false })[Symbol.asyncIterator]();
    for (let taken = 1; taken <= 3; taken++) {
      await output.next();
      await sleep(CHANCE_TO_RUN_AHEAD_MS);
      expect(source.state.pulled).toBeLessThanOrEqual(taken + INPUT_WINDOW + OUTPUT_WINDOW);
    }
    await output.return?.();
    expect(source.state.closed).toBe(true);
  });

  it("holds a reader back while its consumer is slow: chunks are pulled no further ahead than the two credit windows", async () => {
    const source = byteSource();
    const output = plugin("watched").read!(source.input, { options: {}, limits: { maxRowBytes: 1 << 20, maxColumns: 10 } })[Symbol.asyncIterator]();
    for (let taken = 1; taken <= 3; taken++) {
      await output.next();
      await sleep(CHANCE_TO_RUN_AHEAD_MS);
      expect(source.state.pulled).toBeLessThanOrEqual(taken + INPUT_WINDOW + OUTPUT_WINDOW);
    }
    await output.return?.();
    expect(source.state.closed).toBe(true);
  });

  it.each(["write", "read"] as const)("stops a %s when its consumer stops early: the plugin's finally blocks run in the worker, its input is closed, its worker is kept", async (operation) => {
    const before = workers.pool!.stats();
    const watch = nextWatchedReport();
    try {
      const p = plugin("watched");
      const rows = rowSource(1_000_000);
      const bytes = byteSource();
      const output = operation === "write" ? p.write!(rows.rows, { columns, options: {}, useLabels: false }) : p.read!(bytes.input, { options: {}, limits: { maxRowBytes: 1 << 20, maxColumns: 10 } });
      for await (const _ of output as AsyncIterable<unknown>) break;
      expect(await watch.report).toBe(`${operation} closed`);
      expect(operation === "write" ? rows.state.closed : bytes.state.closed).toBe(true);
      expect(workers.pool!.stats().ended).toEqual(before.ended);
    } finally {
      watch.close();
    }
  });

  it("makes jobs beyond maxWorkers wait for a worker, and starts the next one when a worker is free", async () => {
    const p = plugin("watched");
    const open = Array.from({ length: 4 }, () => p.write!(rowSource(1_000_000).rows, { columns, options: {}, useLabels: false })[Symbol.asyncIterator]());
    await Promise.all(open.map((o) => o.next()));
    expect(workers.pool!.stats()).toMatchObject({ workers: 4, busy: 4, queued: 0 });
    const waiting = p.write!(rowSource(3).rows, { columns, options: {}, useLabels: false })[Symbol.asyncIterator]();
    const first = waiting.next(); // asks for a worker at once
    expect(workers.pool!.stats().queued).toBe(1);
    await open[0]!.return!();
    expect((await first).value.toString()).toBe("100\n");
    expect(workers.pool!.stats().queued).toBe(0);
    await waiting.return!();
    await Promise.all(open.slice(1).map((o) => o.return!()));
  });
});

/** OS threads of this process (Linux). */
function threadCount(): number {
  return Number(/Threads:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))![1]);
}

describe("closing the pool", () => {
  it.runIf(existsSync("/proc/self/status"))("ends every worker thread, fails the job still running with a shutdown error, and refuses new jobs", async () => {
    await stat("."); // libuv's thread pool exists before the first count
    const threadsBefore = threadCount();
    const pool = new WorkerPool({ size: 2, maxWorkers: 2, memoryLimitMb: 64 });
    await pool.warm();
    expect(pool.stats()).toMatchObject({ workers: 2, idle: 2 });
    expect(threadCount()).toBeGreaterThanOrEqual(threadsBefore + 2);
    const watched = workerBackedPlugin(plugin("watched"), { pool, entry: workers.plugins.entries.get("watched")!, timeLimitMs: TIME_LIMIT_MS });
    const running = watched.write!(rowSource(1_000_000).rows, { columns, options: {}, useLabels: false })[Symbol.asyncIterator]();
    await running.next();
    await pool.close();
    expect(pool.stats()).toMatchObject({ workers: 0, busy: 0, idle: 0 });
    expect(threadCount()).toBeLessThanOrEqual(threadsBefore);
    // The batches already produced are still handed out; then the job fails.
    await expect(
      (async () => {
        while (!(await running.next()).done);
      })(),
    ).rejects.toBeInstanceOf(WorkerPoolClosedError);
    await expect(pool.acquire()).rejects.toBeInstanceOf(WorkerPoolClosedError);
  });
});
