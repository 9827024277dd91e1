/**
 * A number a JSON or NDJSON file writes in a form String() of the double does
 * not give back (`1.50`, `1e21`, `-0`, `12345678901234567890`) keeps its text
 * when it lands in a text field — by column name, through a mapping's source
 * found in any case, and in a template — and is the number it was for a number
 * or boolean field.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { importAll, importSettings, openRecords, plugin, users, type RecordsFixture } from "./support.js";

let fx: RecordsFixture;
beforeAll(async () => {
  fx = await openRecords("json_numbers");
});
afterAll(async () => fx?.close());
beforeEach(async () => fx.clear());

const pick = (records: Record<string, unknown>[], keys: string[]) => records.map((r) => Object.fromEntries(keys.filter((k) => k in r).map((k) => [k, r[k]])));

describe("a JSON number bound for a text field", () => {
  it("is stored as the file wrote it, in JSON and NDJSON alike", async () => {
    for (const [format, file] of [
      ["ndjson", '{"code":"C1","title":1.50,"category":12345678901234567890,"description":-0}\n{"code":"C2","title":1E3,"category":7}\n'],
      ["json", '[{"code":"C1","title":1.50,"category":12345678901234567890,"description":-0},{"code":"C2","title":1E3,"category":7}]'],
    ] as const) {
      await fx.clear();
      const { summary, errors } = await importAll(fx, file, importSettings("courses", await plugin(format)), { chunkSize: 9 });
      expect(errors, format).toEqual([]);
      expect(summary, format).toMatchObject({ read: 2, inserted: 2 });
      expect(pick(await fx.readAll("courses"), ["code", "title", "category", "description"]), format).toEqual([
        { code: "C1", title: "1.50", category: "12345678901234567890", description: "-0" },
        { code: "C2", title: "1E3", category: "7" },
      ]);
    }
  });

  it("is stored as written through a mapping whose source names the key in another case, and printed as written by a template", async () => {
    const mapping = [
      { source: "KURS", field: "code" },
      { source: "Name", field: "title", transforms: [{ kind: "trim" as const }] },
      { source: "", field: "category", transforms: [{ kind: "template" as const, value: "year {Jahr}" }] },
    ];
    const file = '{"kurs":2.0,"Name":1.10,"Jahr":2013.0}\n';
    const { summary, errors } = await importAll(fx, file, importSettings("courses", await plugin("ndjson"), { mapping: [...mapping, { source: "Jahr", ignore: true }] }));
    expect(errors).toEqual([]);
    expect(summary).toMatchObject({ inserted: 1 });
    expect(pick(await fx.readAll("courses"), ["code", "title", "category"])).toEqual([{ code: "2.0", title: "1.10", category: "year 2013.0" }]);
  });
});

describe("a JSON number bound for a field that is not text", () => {
  it("is the number it was for a boolean field: 1.0 is true and 0.0 false, as 1 and 0 are", async () => {
    const file = '{"code":"B1","title":"t","visible":1.0}\n{"code":"B2","title":"t","visible":0.0}\n';
    const { summary, errors } = await importAll(fx, file, importSettings("courses", await plugin("ndjson")));
    expect(errors).toEqual([]);
    expect(summary).toMatchObject({ inserted: 2 });
    expect(pick(await fx.readAll("courses"), ["code", "visible"])).toEqual([
      { code: "B1", visible: true },
      { code: "B2", visible: false },
    ]);
  });

  it("is the number it is for a number field, however it is written", async () => {
    await fx.seed("users", users(1, 1));
    await fx.seed("courses", [{ code: "C1", title: "Course" }]);
    const session = (id: string, score: string) => `{"sessionId":"${id}","userId":"user1","courseId":"C1","startedAt":"2024-01-01T00:00:00Z","status":"completed","score":${score}}`;
    const file = `${[session("s1", "1.50"), session("s2", "1e1"), session("s3", "2.50"), session("s4", "42")].join("\n")}\n`;
    const { summary, errors } = await importAll(fx, file, importSettings("sessions", await plugin("ndjson")));
    expect(errors).toEqual([]);
    expect(summary).toMatchObject({ inserted: 4 });
    const scores = pick(await fx.readAll("sessions"), ["sessionId", "score"]);
    expect(scores).toEqual([
      { sessionId: "s1", score: 1.5 },
      { sessionId: "s2", score: 10 },
      { sessionId: "s3", score: 2.5 },
      { sessionId: "s4", score: 42 },
    ]);
  });
});
