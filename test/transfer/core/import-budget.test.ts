/**
 * Error budgets and the change guard on the real records service: a lenient
 * import past max_errors or max_error_ratio stops and says so, and what it
 * wrote before — no more, no fewer — is in the database and in its counts; an
 * upsert that would change more existing records than max_changes stops
 * before the batch that would pass it (strict and dry runs: nothing written).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TransferSettingsError } from "../../../services/transfer/core/errors.js";
import { importAll, importSettings, openRecords, plugin, users, usersCsv, type RecordsFixture } from "./support.js";

let fx: RecordsFixture;
beforeAll(async () => {
  fx = await openRecords("import_budget");
});
afterAll(async () => fx?.close());
beforeEach(async () => fx.clear());

/** Users 1…n where those `bad(n)` has chosen have an email that is not one. */
const file = (n: number, bad: (i: number) => boolean) => usersCsv(users(1, n, (i) => (bad(i) ? { email: `not-an-email-${i}` } : {})));

describe("max_errors", () => {
  it("stops a lenient import at the error past the budget; the rows written before are exactly those stored and counted", async () => {
    const { summary, errors } = await importAll(
      fx,
      file(2000, (i) => i > 600),
      importSettings("users", await plugin("csv"), { batchSize: 100, budget: { maxErrors: 10 } }),
    );
    expect(summary.stopped).toMatchObject({ code: "budget", reason: "11 rows were rejected, more than max_errors (10)" });
    expect(errors).toHaveLength(11);
    expect(summary.failed).toBe(11);
    expect(summary.inserted).toBe(await fx.count("users"));
    expect(summary.inserted).toBeGreaterThanOrEqual(500);
    expect(summary.inserted).toBeLessThanOrEqual(600);
    expect(summary.read).toBeLessThan(2000);
  });

  it("lets an import within its budget run to the end", async () => {
    const { summary } = await importAll(
      fx,
      file(300, (i) => i % 100 === 0),
      importSettings("users", await plugin("csv"), { budget: { maxErrors: 3 } }),
    );
    expect(summary.stopped).toBeUndefined();
    expect(summary).toMatchObject({ read: 300, inserted: 297, failed: 3 });
  });
});

describe("max_error_ratio", () => {
  it("stops once 100 rows were read and the share of rejected rows is above it", async () => {
    const { summary } = await importAll(
      fx,
      file(1000, (i) => i % 3 === 0),
      importSettings("users", await plugin("csv"), { batchSize: 50, budget: { maxErrorRatio: 0.1 } }),
    );
    expect(summary.stopped?.code).toBe("budget");
    expect(summary.stopped?.reason).toMatch(/^\d+ of 100 rows were rejected \(33 %\), more than max_error_ratio \(10 %\)$/);
    expect(summary.inserted).toBe(await fx.count("users"));
    expect(summary.read).toBe(100);
  });

  it("judges a short file at its end, before its rows are written: nothing of it is", async () => {
    const { summary } = await importAll(
      fx,
      file(10, (i) => i <= 5),
      importSettings("users", await plugin("csv"), { budget: { maxErrorRatio: 0.2 } }),
    );
    expect(summary.stopped).toMatchObject({ code: "budget", reason: "5 of 10 rows were rejected (50 %), more than max_error_ratio (20 %)" });
    expect(summary.inserted).toBe(0);
    expect(await fx.count("users")).toBe(0);
  });
});

describe("max_changes", () => {
  const changed = (n: number) => usersCsv(users(1, n, (i) => ({ lastName: `Changed ${i}` })));

  it("writes the batches within the guard and stops before the one that would pass it", async () => {
    await fx.seed("users", users(1, 50));
    const { summary } = await importAll(fx, changed(50), importSettings("users", await plugin("csv"), { mode: "upsert", batchSize: 10, budget: { maxChanges: 25 } }));
    expect(summary.stopped).toMatchObject({ code: "budget", reason: "the file would change at least 30 existing records, more than max_changes (25); the batch from row 21 was not written", row: 21 });
    expect(summary.updated).toBe(20);
    const stored = await fx.readAll("users");
    expect(stored.filter((u) => String(u.lastName).startsWith("Changed"))).toHaveLength(20);
  });

  it("writes nothing in strict mode or a dry run when the file would pass it", async () => {
    await fx.seed("users", users(1, 50));
    for (const over of [{ strict: true }, { dryRun: true }]) {
      const { summary } = await importAll(fx, changed(50), importSettings("users", await plugin("csv"), { mode: "upsert", batchSize: 10, budget: { maxChanges: 25 }, ...over }));
      expect(summary.stopped?.code, JSON.stringify(over)).toBe("budget");
      expect(
        (await fx.readAll("users")).filter((u) => String(u.lastName).startsWith("Changed")),
        JSON.stringify(over),
      ).toHaveLength(0);
    }
  });

  it("does not count new records or unchanged ones as changes", async () => {
    await fx.seed("users", users(1, 10));
    const { summary } = await importAll(fx, usersCsv(users(1, 40)), importSettings("users", await plugin("csv"), { mode: "upsert", batchSize: 5, budget: { maxChanges: 0 } }));
    expect(summary.stopped).toBeUndefined();
    expect(summary).toMatchObject({ unchanged: 10, inserted: 30, updated: 0 });
  });
});

describe("a budget that cannot apply", () => {
  it("is refused before anything is read, naming the setting", async () => {
    const refused = async (over: Parameters<typeof importSettings>[2], message: RegExp) => {
      await expect(
        importAll(
          fx,
          file(5, () => false),
          importSettings("users", await plugin("csv"), over),
        ),
      ).rejects.toThrow(message);
      await expect(
        importAll(
          fx,
          file(5, () => false),
          importSettings("users", await plugin("csv"), over),
        ),
      ).rejects.toBeInstanceOf(TransferSettingsError);
    };
    await refused({ strict: true, budget: { maxErrors: 3 } }, /max_errors applies to lenient imports only/);
    await refused({ budget: { maxChanges: 3 } }, /max_changes applies to upsert and merge only: insert never changes an existing record/);
    await refused({ budget: { maxErrorRatio: 1.5 } }, /max_error_ratio must be a fraction between 0 and 1/);
    await refused({ budget: { maxErrors: -1 } }, /max_errors must be a whole number/);
    expect(await fx.count("users")).toBe(0);
  });
});
