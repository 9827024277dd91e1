/**
 * The core's bundle export: parts read one after another (a part's records
 * are asked for only once the previous part is written, so a bundle holds
 * no more than a single export), a workbook for multi-part formats and a
 * ZIP of per-entity files otherwise, counts per part, cancellation.
 */
import { strFromU8, unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { ENTITIES } from "../../../services/domain/index.js";
import { runBundleExport, type BundlePartSettings, type BundleSettings } from "../../../services/transfer/core/export-bundle.js";
import { TransferCancelledError, TransferSettingsError } from "../../../services/transfer/core/index.js";
import { concat, plugin } from "./support.js";

/** Parts whose record streams log when they are opened and when they end. */
function loggedParts(log: string[], counts: { users: number; courses: number }): BundlePartSettings[] {
  const stream = (name: string, make: (i: number) => Record<string, unknown>, n: number) =>
    async function* () {
      log.push(`open ${name}`);
      for (let i = 0; i < n; i += 2) yield Array.from({ length: Math.min(2, n - i) }, (_, j) => make(i + j));
      log.push(`end ${name}`);
    };
  return [
    { entity: ENTITIES.users, fields: ["username"], batches: stream("users", (i) => ({ username: `u${i}` }), counts.users) },
    { entity: ENTITIES.courses, fields: ["code"], batches: stream("courses", (i) => ({ code: `C${i}` }), counts.courses) },
  ];
}

async function settings(format: string, parts: BundlePartSettings[], over: Partial<BundleSettings> = {}): Promise<BundleSettings> {
  return { plugin: await plugin(format), pluginOptions: {}, nestedDelimiter: ".", parts, ...over };
}

describe("a bundle export in the core", () => {
  it.each(["csv", "xlsx"])("reads the parts one after another in %s, never two record streams at once", async (format) => {
    const log: string[] = [];
    let last: number[] = [];
    await concat(runBundleExport(await settings(format, loggedParts(log, { users: 5, courses: 3 }), { onProgress: (p) => (last = p.records) })));
    expect(log).toEqual(["open users", "end users", "open courses", "end courses"]);
    expect(last).toEqual([5, 3]);
  });

  it("writes a ZIP of one file per entity in a row format, named after the entity", async () => {
    const bytes = await concat(runBundleExport(await settings("ndjson", loggedParts([], { users: 2, courses: 1 }))));
    const files = Object.fromEntries(Object.entries(unzipSync(bytes)).map(([k, v]) => [k, strFromU8(v)]));
    expect(files).toEqual({ "users.ndjson": '{"username":"u0"}\n{"username":"u1"}\n', "courses.ndjson": '{"code":"C0"}\n' });
  });

  it("refuses an unknown field of any part before a record is read", async () => {
    const log: string[] = [];
    const parts = loggedParts(log, { users: 1, courses: 1 });
    parts[1]!.fields = ["nope"];
    await expect(concat(runBundleExport(await settings("csv", parts)))).rejects.toBeInstanceOf(TransferSettingsError);
    expect(log).toEqual([]);
  });

  it("stops reading when cancelled", async () => {
    const controller = new AbortController();
    const log: string[] = [];
    const out = runBundleExport(await settings("csv", loggedParts(log, { users: 100_000, courses: 1 }), { signal: controller.signal }));
    await out.next();
    controller.abort();
    await expect(concat(out)).rejects.toBeInstanceOf(TransferCancelledError);
    expect(log).not.toContain("open courses");
  });
});
