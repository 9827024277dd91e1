/**
 * An import keeps `writesInFlight` batches at the records service, so the
 * service never waits for the next batch; answers are still taken in order,
 * so counts and row errors come out exactly as with one batch at a time.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RecordWriter } from "../../../services/transfer/core/index.js";
import { importAll, importSettings, openRecords, plugin, users, usersCsv, type RecordsFixture } from "./support.js";

let fx: RecordsFixture;

beforeAll(async () => {
  fx = await openRecords("writes_in_flight");
});
afterAll(async () => fx?.close());
beforeEach(async () => fx.clear());

/** The real writer, with a gauge of how many of its calls overlap. */
function gauged(inner: RecordWriter): { writer: RecordWriter; gauge: { now: number; most: number; calls: number } } {
  const gauge = { now: 0, most: 0, calls: 0 };
  return {
    gauge,
    writer: {
      async write(records, options) {
        gauge.calls++;
        gauge.most = Math.max(gauge.most, ++gauge.now);
        try {
          return await inner.write(records, options);
        } finally {
          gauge.now--;
        }
      },
    },
  };
}

/** 1000 users; users 230 and 870 exist already, so the records service refuses those two rows. */
const csv = usersCsv(users(1, 1000));
const existing = [...users(230, 230), ...users(870, 870)];

describe("writes in flight", () => {
  for (const writesInFlight of [1, 2, 4]) {
    it(`keeps at most ${writesInFlight} batch(es) at the writer and reports the same counts and row errors`, async () => {
      await fx.seed("users", existing);
      const { writer, gauge } = gauged(fx.writer("users"));
      const { summary, errors } = await importAll(fx, csv, importSettings("users", await plugin("csv"), { batchSize: 50, writesInFlight }), { writer, chunkSize: 4096 });
      expect(gauge.calls).toBeGreaterThanOrEqual(20);
      expect(gauge.most).toBe(writesInFlight);
      expect(summary).toMatchObject({ read: 1000, inserted: 998, failed: 2 });
      expect(errors.map((e) => [e.row, e.code])).toEqual([
        [230, "exists"],
        [870, "exists"],
      ]);
      expect(await fx.count("users")).toBe(1000);
    });
  }

  it("refuses a depth outside 1–8 before reading a byte", async () => {
    await expect(importAll(fx, csv, importSettings("users", await plugin("csv"), { writesInFlight: 0 }))).rejects.toThrow(/writesInFlight must be a whole number from 1 to 8/);
    await expect(importAll(fx, csv, importSettings("users", await plugin("csv"), { writesInFlight: 9 }))).rejects.toThrow(/writesInFlight/);
  });
});
