/**
 * The activity log is append-only, and its export carries each entry's id,
 * so importing an export is a restore: into an empty database it recreates
 * the entries under their ids, and repeating it changes nothing (every entry
 * `unchanged`), instead of doubling the log.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportAll, importAll, importSettings, openRecords, plugin, users, type RecordsFixture } from "./support.js";

/** Entries as restored: ids and values, without when each database stored them. */
const comparableWithIds = (entries: Record<string, unknown>[]) => entries.map(({ recordedAt: _r, ...rest }) => rest);

let source: RecordsFixture;
let target: RecordsFixture;

beforeAll(async () => {
  source = await openRecords("restore_src");
  target = await openRecords("restore_dst");
  await source.seed("users", users(1, 2));
  await source.seed("activity", [
    { userId: "user1", action: "view", at: new Date("2024-01-01T10:05:00Z"), details: { device: "mobile", clicks: 3 } },
    { userId: "user1", action: "quiz:submit", at: new Date("2024-01-01T10:20:00Z") },
    { userId: "user2", action: "login", at: new Date("2024-01-02T09:59:00Z"), details: { note: "-5 degrees" } },
  ]);
});
afterAll(async () => {
  await source?.close();
  await target?.close();
});

describe.each(["csv", "json", "ndjson"])("an activity export in %s", (format) => {
  it("carries each entry's id, and imported back into the same log changes nothing", async () => {
    const p = await plugin(format);
    const file = await exportAll(source, "activity", p);
    const ids = (await source.readAll("activity")).map((r) => r.id as string);
    for (const id of ids) expect(file.toString("utf8")).toContain(id);
    for (let round = 0; round < 2; round++) {
      const { summary, errors } = await importAll(source, file, importSettings("activity", p));
      expect(errors).toEqual([]);
      expect(summary).toMatchObject({ read: 3, inserted: 0, unchanged: 3, failed: 0 });
    }
    expect(await source.count("activity")).toBe(3);
  });

  it("restores the entries under their ids into an empty log, once", async () => {
    const p = await plugin(format);
    await target.clear();
    await target.seed("users", users(1, 2));
    const file = await exportAll(source, "activity", p);
    const first = await importAll(target, file, importSettings("activity", p));
    expect(first.summary).toMatchObject({ read: 3, inserted: 3, failed: 0 });
    // Each entry keeps its id and values; its recordedAt is when the target stored it.
    expect(comparableWithIds(await target.readAll("activity"))).toEqual(comparableWithIds(await source.readAll("activity")));
    const again = await importAll(target, file, importSettings("activity", p));
    expect(again.summary).toMatchObject({ inserted: 0, unchanged: 3 });
    expect(await target.count("activity")).toBe(3);
  });
});

describe("restoring an entry that was changed in the file", () => {
  it("refuses it by row, naming the id column: the log cannot be changed", async () => {
    const csv = (await exportAll(source, "activity", await plugin("csv"))).toString("utf8").replace("quiz:submit", "quiz:cheat");
    const { summary, errors } = await importAll(source, csv, importSettings("activity", await plugin("csv")));
    expect(summary).toMatchObject({ read: 3, unchanged: 2, failed: 1 });
    expect(errors).toMatchObject([{ row: 2, column: "Entry id", code: "exists" }]);
    expect(errors[0]!.reason).toContain("append-only");
  });
});

describe("values a JSON file can hold and a database cannot", () => {
  it("refuses a __proto__ key inside details and a lone surrogate, row by row, instead of dropping or replacing them", async () => {
    const json = `[
      {"userId": "user1", "action": "view", "at": "2024-03-01T00:00:00Z", "details": {"__proto__": {"admin": true}, "ok": 1}},
      {"userId": "user1", "action": "view\\ud800", "at": "2024-03-01T00:00:00Z"},
      {"userId": "user1", "action": "view", "at": "2024-03-01T00:00:00Z", "details": {"note": "\\udc00 alone"}},
      {"userId": "user1", "action": "view", "at": "2024-03-01T00:00:00Z", "details": {"note": "paired 😀 fine"}}
    ]`;
    await target.clear();
    await target.seed("users", users(1, 1));
    const { summary, errors } = await importAll(target, json, importSettings("activity", await plugin("json")));
    expect(JSON.stringify(errors)).not.toContain("\uFFFD");
    expect(errors.map((e) => ({ row: e.row, line: e.line, column: e.column }))).toEqual([
      { row: 1, line: 2, column: "details" },
      { row: 2, line: 3, column: "action" },
      { row: 2, line: 3, column: "action" }, // (an action is also held to a pattern)
      { row: 3, line: 4, column: "details" },
    ]);
    expect(errors[0]!.reason).toContain("__proto__");
    expect(errors[1]!.reason).toContain("lone surrogate");
    expect(errors[3]!.reason).toContain("lone surrogate");
    expect(summary).toMatchObject({ read: 4, inserted: 1, failed: 3 });
  });
});
