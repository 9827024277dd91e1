/**
 * An in-thread plugin's own failure is named; the failures of what it reads
 * from are not blamed on it. (Plugins in workers: test/transfer/workers.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { definePlugin, type FormatPlugin } from "../../../formats/_sdk/index.js";
import { ENTITIES } from "../../../services/domain/index.js";
import { runExport } from "../../../services/transfer/core/index.js";
import { FormatPluginError } from "../../../services/transfer/plugins/plugin-errors.js";
import { UnwritableExportError } from "../../../services/transfer/core/errors.js";
import { toConnectError } from "../../../services/transfer/error-mapping.js";
import { Code } from "@connectrpc/connect";
import { chunked, importAll, importSettings, openRecords, plugin, users, usersCsv, type RecordsFixture } from "./support.js";

let fx: RecordsFixture;
beforeAll(async () => {
  fx = await openRecords("plugin_failures");
});
afterAll(async () => fx?.close());

const base = { title: "Broken", extensions: ["brk"], mimeType: "text/plain", shape: "tabular" as const, audience: "machine" as const, options: z.object({}) };

/** Writes one chunk per batch, and throws a TypeError (a bug) at its second batch. */
const buggyWriter: FormatPlugin = definePlugin({
  ...base,
  name: "buggy",
  async *write(rows) {
    let batches = 0;
    for await (const batch of rows) {
      if (++batches === 2) throw new TypeError("cannot read properties of undefined (reading 'length')");
      yield Buffer.from(`${batch.length}\n`);
    }
  },
});

/** Reads one row per chunk, and throws a RangeError (a bug) at its third chunk. */
const buggyReader: FormatPlugin = definePlugin({
  ...base,
  name: "buggy-reader",
  async *read(input) {
    let row = 0;
    for await (const _ of input) {
      if (++row === 3) throw new RangeError("offset is out of bounds");
      yield [{ kind: "row" as const, row: { row, values: { email: `r${row}@example.org`, username: `r${row}` } } }];
    }
  },
});

async function* batchesOf(count: number, failWith?: Error): AsyncGenerator<Record<string, unknown>[]> {
  for (let i = 0; i < count; i++) yield users(i * 10 + 1, i * 10 + 10);
  if (failWith) throw failWith;
}

async function drain(source: AsyncIterable<Uint8Array>): Promise<number> {
  let bytes = 0;
  for await (const chunk of source) bytes += chunk.byteLength;
  return bytes;
}

const exportSettings = (format: FormatPlugin) => ({ plugin: format, pluginOptions: {}, entity: ENTITIES.users, nestedDelimiter: "." });

describe("a plugin's own failure", () => {
  it("fails an export naming the plugin, with the plugin's error as the cause", async () => {
    const failure = await drain(runExport(batchesOf(5), exportSettings(buggyWriter))).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(FormatPluginError);
    expect((failure as FormatPluginError).message).toBe(`format plugin "buggy" failed: cannot read properties of undefined (reading 'length')`);
    expect((failure as FormatPluginError).plugin).toBe("buggy");
    expect((failure as Error).cause).toBeInstanceOf(TypeError);
  });

  it("fails an import naming the plugin", async () => {
    const run = importAll(fx, chunked("a\nb\nc\nd\n", 2), importSettings("users", buggyReader));
    await expect(run).rejects.toThrow(`format plugin "buggy-reader" failed: offset is out of bounds`);
    await expect(run).rejects.toBeInstanceOf(FormatPluginError);
  });
});

describe("data the format cannot hold", () => {
  it("fails an export as a file that cannot be written, keeping the writer's position, not as a plugin bug or a file that cannot be read", async () => {
    const emoji = async function* () {
      yield users(1, 10, (n) => (n === 7 ? { firstName: "Zoë 😀" } : {}));
    };
    const failure = await drain(runExport(emoji(), { ...exportSettings(await plugin("csv")), pluginOptions: { encoding: "latin1" } })).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(UnwritableExportError);
    expect((failure as UnwritableExportError).formatError).toMatchObject({ name: "FormatError", row: 7 });
    expect(toConnectError(failure)).toMatchObject({ code: Code.InvalidArgument, rawMessage: 'the file cannot be written: character "😀" (U+1F600) cannot be written in latin1 (at row 7)' });
  });
});

describe("a failure of what the plugin reads", () => {
  it("reaches the export unchanged, not blamed on the plugin", async () => {
    const gone = new Error("the records service went away");
    const failure = await drain(runExport(batchesOf(3, gone), exportSettings(await plugin("csv")))).catch((e: unknown) => e);
    expect(failure).toBe(gone);
  });

  it("stays a file error when the plugin says the file cannot be read further", async () => {
    const { summary, errors } = await importAll(fx, '"email","username"\n"unterminated,x\n', importSettings("users", await plugin("csv"), { pluginOptions: { delimiter: "," } }));
    expect(summary.stopped).toMatchObject({ code: "format" });
    expect(errors.at(-1)).toMatchObject({ code: "format" });
  });

  it("stays a file error when the FormatError comes from another copy of the SDK (a plugin from pluginDirs run in-thread)", async () => {
    /** What another copy's FormatError is to this one: the same name and shape, another class. */
    class ForeignFormatError extends Error {
      override name = "FormatError";
      constructor(
        readonly reason: string,
        readonly line: number,
      ) {
        super(`line ${line}: ${reason}`);
      }
    }
    const foreign = definePlugin({
      ...base,
      name: "foreign-sdk",
      async *read(input) {
        for await (const _ of input) throw new ForeignFormatError("the file ends inside a quoted value", 2);
        yield [];
      },
    });
    const { summary, errors } = await importAll(fx, "email\nx@example.org\n", importSettings("users", foreign));
    expect(summary.stopped).toMatchObject({ code: "format" });
    expect(errors.at(-1)).toMatchObject({ code: "format", line: 2, reason: expect.stringContaining("the file ends inside a quoted value") });
  });

  it("keeps the file-size limit a limit, whichever plugin reads", async () => {
    const csv = usersCsv(users(1, 500));
    const { summary } = await importAll(
      fx,
      csv,
      importSettings("users", await plugin("csv"), { pluginOptions: { delimiter: "," }, limits: { maxFileBytes: 5_000, maxRowBytes: 1 << 20, maxColumns: 100 } }),
      { chunkSize: 512 },
    );
    expect(summary.stopped).toMatchObject({ code: "limit" });
  });
});
