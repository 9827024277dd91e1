/**
 * Imports that cannot finish normally: a file over the size limit, input a
 * plugin cannot read further, a cancelled job. And the stream-level
 * guarantees: the checksum, and the same result whatever the chunking.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runImport, TransferCancelledError, type ImportEvent, type RowErrorEvent, type SummaryEvent } from "../../../services/transfer/core/index.js";
import { chunked, importAll, importSettings, LIMITS, openRecords, plugin, users, usersCsv, type RecordsFixture } from "./support.js";

let fx: RecordsFixture;

beforeAll(async () => {
  fx = await openRecords("import_stops");
});
afterAll(async () => fx?.close());
beforeEach(async () => fx.clear());

async function stagingCollections(): Promise<string[]> {
  return (await fx.transferDb.listCollections().toArray()).map((c) => c.name).filter((n) => n.startsWith("staging_"));
}

describe("the file-size limit", () => {
  const csv = usersCsv(users(1, 1000));
  const limits = { ...LIMITS, maxFileBytes: 20_000 };
  // A fixed delimiter: sniffing would read a 64 KiB sample before the first row.
  const pluginOptions = { delimiter: "," };

  it("stops a strict import mid-stream with a limit error, and nothing is written", async () => {
    expect(csv.length).toBeGreaterThan(40_000);
    const { summary, errors } = await importAll(fx, csv, importSettings("users", await plugin("csv"), { strict: true, limits, pluginOptions, batchSize: 50 }), { chunkSize: 1000 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: "limit", reason: expect.stringContaining("20000 bytes (maxFileBytes)") });
    expect(summary).toMatchObject({ strictAborted: true, inserted: 0, stopped: { code: "limit" } });
    expect(summary.bytes).toBeLessThanOrEqual(20_000);
    expect(await fx.count("users")).toBe(0);
    expect(await stagingCollections()).toEqual([]);
  });

  it("keeps what a lenient import wrote before the limit and says the job stopped", async () => {
    const { summary, errors } = await importAll(fx, csv, importSettings("users", await plugin("csv"), { limits, pluginOptions, batchSize: 50 }), { chunkSize: 1000 });
    expect(errors.map((e) => e.code)).toEqual(["limit"]);
    expect(errors[0]!.row).toBe(summary.read + 1);
    expect(summary.stopped).toMatchObject({ code: "limit" });
    expect(summary.read).toBeGreaterThan(150);
    expect(summary.read).toBeLessThan(400);
    expect(summary).toMatchObject({ inserted: summary.read, failed: 0, strictAborted: false });
    expect(await fx.count("users")).toBe(summary.read);
    expect(summary.sha256).toBe(createHash("sha256").update(csv.slice(0, summary.bytes)).digest("hex"));
  });
});

describe("input a plugin cannot read further", () => {
  const broken = `[${users(1, 3)
    .map((u) => JSON.stringify(u))
    .join(",")},{"email": "x@example.org" "username": "x"},${JSON.stringify(users(5, 5)[0])}]`;

  it("ends a lenient import with a format row error at its row, a summary, and the rows before it written", async () => {
    const { summary, errors } = await importAll(fx, broken, importSettings("users", await plugin("json")));
    expect(errors).toMatchObject([{ row: 4, code: "format" }]);
    expect(summary).toMatchObject({ read: 3, inserted: 3, failed: 0, stopped: { code: "format", row: 4 } });
    expect(await fx.count("users")).toBe(3);
  });

  it("writes nothing in strict mode", async () => {
    const { summary, errors } = await importAll(fx, broken, importSettings("users", await plugin("json"), { strict: true }), { chunkSize: 7 });
    expect(errors).toMatchObject([{ row: 4, code: "format" }]);
    expect(summary).toMatchObject({ read: 3, inserted: 0, strictAborted: true, stopped: { code: "format" } });
    expect(await fx.count("users")).toBe(0);
  });

  it("reports an unterminated CSV quote with its line", async () => {
    const { summary, errors } = await importAll(fx, 'email,username\r\na@example.org,a\r\n"b@example.org,b\r\n', importSettings("users", await plugin("csv")));
    expect(errors).toMatchObject([{ row: 2, line: 3, code: "format" }]);
    expect(summary).toMatchObject({ read: 1, inserted: 1, stopped: { code: "format" } });
  });

  it("reports rows over the row-size limit as limit errors and goes on", async () => {
    const rows = users(1, 3);
    rows[1]!.lastName = "x".repeat(5000);
    const { summary, errors } = await importAll(fx, usersCsv(rows), importSettings("users", await plugin("csv"), { limits: { ...LIMITS, maxRowBytes: 1000 } }));
    expect(errors).toMatchObject([{ row: 2, code: "limit" }]);
    expect(summary).toMatchObject({ read: 3, inserted: 2, failed: 1 });
  });
});

describe("cancelling", () => {
  /** A slow upload: one small chunk per tick, and a flag when it is closed. */
  function slowUpload(text: string, state: { closed: boolean; sent: number }) {
    return (async function* () {
      try {
        for (let i = 0; i < text.length; i += 500) {
          await new Promise((r) => setTimeout(r, 1));
          state.sent += 500;
          yield Buffer.from(text.slice(i, i + 500));
        }
      } finally {
        state.closed = true;
      }
    })();
  }

  for (const strict of [false, true]) {
    it(`stops reading and writing a ${strict ? "strict" : "lenient"} import and ends with a cancellation error`, async () => {
      const csv = usersCsv(users(1, 2000));
      const controller = new AbortController();
      const state = { closed: false, sent: 0 };
      const events: ImportEvent[] = [];
      const batchSize = 100;
      const writesInFlight = 2;
      // Rows the writer had answered when the user cancelled, and the most it answered before the import stopped.
      let answeredAtCancel: number | undefined;
      let answered = 0;
      const run = (async () => {
        for await (const e of runImport(
          slowUpload(csv, state),
          importSettings("users", await plugin("csv"), { strict, batchSize, writesInFlight, signal: controller.signal }),
          fx.writer("users"),
          fx.staging(),
        )) {
          events.push(e);
          if (e.kind !== "progress") continue;
          answered = Math.max(answered, e.rowsWritten);
          if (answeredAtCancel === undefined && e.rowsWritten >= 200) {
            answeredAtCancel = e.rowsWritten;
            controller.abort(new Error("user pressed cancel"));
          }
        }
      })();
      await expect(run).rejects.toBeInstanceOf(TransferCancelledError);
      expect(state.closed).toBe(true);
      expect(state.sent).toBeLessThan(csv.length);
      expect(events.some((e) => e.kind === "summary")).toBe(false);
      const written = await fx.count("users");
      expect(answeredAtCancel).toBeGreaterThanOrEqual(200);
      if (strict) {
        // Strict validates with dry runs while it stages: a cancelled strict import has written nothing.
        expect(written).toBe(0);
      } else {
        // Lenient writes as it goes: what the writer answered is stored, plus at most the batches already sent when the user cancelled.
        expect(written).toBeGreaterThanOrEqual(answered);
        expect(written).toBeLessThanOrEqual(answered + writesInFlight * batchSize);
      }
      expect(await stagingCollections()).toEqual([]);
    });
  }

  it("cancels an import whose upload has stalled", async () => {
    const controller = new AbortController();
    async function* stalled() {
      yield Buffer.from("email,username\r\na@example.org,a\r\n");
      await new Promise(() => undefined); // never resolves
    }
    const run = importAll(fx, stalled(), importSettings("users", await plugin("csv"), { signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    await expect(run).rejects.toBeInstanceOf(TransferCancelledError);
  });
});

describe("streaming", () => {
  it("gives the same events and counts when the input arrives in 2-byte chunks", async () => {
    const rows = users(1, 120);
    rows[10]!.email = "bad";
    rows[50]!.username = "user3";
    rows[70]!.firstName = "Zoë — ünïcode ✓ 😀";
    const csv = usersCsv(rows);
    const results: { format: string; chunkSize: number; summary: SummaryEvent; errors: RowErrorEvent[]; stored: Record<string, unknown>[] }[] = [];
    for (const format of ["csv", "ndjson"]) {
      const input = format === "csv" ? csv : rows.map((r) => JSON.stringify(r)).join("\n");
      for (const chunkSize of [64 * 1024, 2]) {
        await fx.clear();
        const { summary, errors } = await importAll(fx, input, importSettings("users", await plugin(format), { batchSize: 25 }), { chunkSize });
        results.push({ format, chunkSize, summary, errors, stored: await fx.readAll("users") });
        expect(summary.sha256).toBe(createHash("sha256").update(input).digest("hex"));
      }
    }
    const strip = (r: (typeof results)[number]) => ({
      summary: r.summary,
      errors: r.errors.map(({ line: _l, column: _c, ...e }) => e),
      stored: r.stored.map(({ createdAt: _c, updatedAt: _u, ...s }) => s),
    });
    expect(strip(results[1]!)).toEqual(strip(results[0]!));
    expect(strip(results[3]!)).toEqual(strip(results[2]!));
    expect(results[0]!.summary).toMatchObject({ read: 120, inserted: 118, failed: 2 });
    expect(results[0]!.stored.find((u) => u.username === "user71")?.firstName).toBe("Zoë — ünïcode ✓ 😀");
  });

  it("reports a checksum of exactly the bytes read", async () => {
    const csv = usersCsv(users(1, 3));
    const { summary } = await importAll(fx, chunked(csv, 5), importSettings("users", await plugin("csv"), { dryRun: true }));
    expect(summary).toMatchObject({ bytes: Buffer.byteLength(csv), sha256: createHash("sha256").update(csv).digest("hex"), dryRun: true, inserted: 3 });
  });
});
