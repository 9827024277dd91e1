import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { FormatError } from "../../formats/_sdk/index.js";
import json from "../../formats/json/index.js";
import { parseJsonValue } from "../../formats/json/json-values.js";
import { DATA_DIR, chunked, readAll, values, writeAll } from "./support.js";

const suiteDir = new URL("JSONTestSuite/test_parsing/", DATA_DIR);
const files = readdirSync(suiteDir).sort();
// Paths, not URLs: one file name contains a "#".
const bytesOf = (name: string) => readFileSync(join(fileURLToPath(suiteDir), name));

/** Scans in whole, 1-byte and 7-byte chunks; all must agree. */
async function scanAllWays(bytes: Uint8Array): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
  const outcomes = [];
  for (const size of [Math.max(bytes.length, 1), 1, 7]) {
    try {
      outcomes.push({ ok: true as const, value: await parseJsonValue(chunked(bytes, size)) });
    } catch (error) {
      outcomes.push({ ok: false as const, error });
    }
  }
  expect(outcomes.map((o) => o.ok)).toEqual([outcomes[0]!.ok, outcomes[0]!.ok, outcomes[0]!.ok]);
  return outcomes[0]!;
}

describe("JSONTestSuite through the streaming scanner", () => {
  it.each(files.filter((f) => f.startsWith("y_")))("accepts %s with the value JSON.parse gives", async (name) => {
    const bytes = bytesOf(name);
    const outcome = await scanAllWays(bytes);
    expect(outcome).toEqual({ ok: true, value: JSON.parse(new TextDecoder().decode(bytes)) });
  });

  it.each(files.filter((f) => f.startsWith("n_")))("rejects %s with a FormatError", async (name) => {
    const outcome = await scanAllWays(bytesOf(name));
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expect(outcome.error).toBeInstanceOf(FormatError);
      expect((outcome.error as FormatError).reason.length).toBeGreaterThan(0);
    }
  });

  it.each(files.filter((f) => f.startsWith("i_")))("either accepts or rejects %s cleanly", async (name) => {
    const outcome = await scanAllWays(bytesOf(name));
    if (!outcome.ok) expect(outcome.error).toBeInstanceOf(FormatError);
  });
});

describe("json plugin", () => {
  const cols = [
    { key: "name", label: "Full name", type: "string" as const },
    { key: "born", label: "Born", type: "timestamp" as const },
  ];
  const rows = [
    { name: "Ada", born: new Date("1815-12-10T00:00:00.000Z") },
    { name: "Grace", born: null },
  ];

  it("writes compact JSON with keys and dates as ISO strings", async () => {
    const out = Buffer.from(await writeAll(json, rows, cols)).toString();
    expect(out).toBe('[{"name":"Ada","born":"1815-12-10T00:00:00.000Z"},{"name":"Grace","born":null}]');
  });

  it("writes pretty JSON with the configured indent", async () => {
    const out = Buffer.from(await writeAll(json, rows.slice(0, 1), cols, { pretty: true, indent: 4 })).toString();
    expect(out).toBe('[\n    {\n        "name": "Ada",\n        "born": "1815-12-10T00:00:00.000Z"\n    }\n]\n');
    expect(JSON.parse(out)).toEqual([{ name: "Ada", born: "1815-12-10T00:00:00.000Z" }]);
  });

  it("writes an empty array for zero rows", async () => {
    expect(Buffer.from(await writeAll(json, [], cols)).toString()).toBe("[]");
    expect(JSON.parse(Buffer.from(await writeAll(json, [], cols, { pretty: true })).toString())).toEqual([]);
  });

  it("reads elements as they complete, before the rest of the file has arrived", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    async function* slow() {
      yield Buffer.from('[{"a":1},{"a":2},');
      await gate;
      yield Buffer.from('{"a":3}]');
    }
    const it = json.read!(slow(), { options: json.options.parse({}), limits: { maxRowBytes: 1000, maxColumns: 10 } })[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value).toHaveLength(2);
    release();
    const second = await it.next();
    expect(second.value).toEqual([{ kind: "row", row: { row: 3, line: 1, values: { a: 3 } } }]);
  });

  it("reports the element number and byte offset of a syntax error", async () => {
    const result = await readAll(json, '[{"a":1},\n {"a":01}]');
    expect(values(result)).toEqual([{ a: 1 }]);
    expect(result.fatal).toMatchObject({ row: 2 });
    expect(result.fatal?.offset).toBeGreaterThanOrEqual(11);
    expect(result.fatal?.offset).toBeLessThanOrEqual(17);
  });

  it("rejects invalid UTF-8 inside an element instead of importing replacement characters", async () => {
    const bytes = Uint8Array.from([...Buffer.from('[{"a":"'), 0xc3, 0x28, ...Buffer.from('"}]')]);
    expect((await readAll(json, bytes)).fatal?.reason).toMatch(/UTF-8/);
  });

  it("says what a Latin-1 file looks like, at the byte, so the user can save it as UTF-8", async () => {
    const bytes = Buffer.from('[{"name":"Jos\xe9 Garc\xeda, Fran\xe7ois, Zo\xeb M\xfcller"}]', "latin1");
    const result = await readAll(json, bytes);
    expect(result.fatal?.reason).toMatch(/invalid UTF-8 \(byte 0xE9\): JSON text must be UTF-8; this looks like windows-1252/);
    expect(result.fatal?.offset).toBe(13);
  });

  it("refuses a UTF-16 file by its byte order mark, saying JSON must be UTF-8", async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('[{"a":1}]', "utf16le")]);
    expect((await readAll(json, bytes)).fatal?.reason).toBe("the file starts with a UTF-16 byte order mark: JSON must be UTF-8, so save the file as UTF-8");
  });

  it("tolerates a UTF-8 byte order mark and surrounding whitespace", async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(' \n[ {"a":1} ]\n ')]);
    expect(values(await readAll(json, bytes, { chunkSize: 1 }))).toEqual([{ a: 1 }]);
  });

  it("skips an oversized element and continues with the next one", async () => {
    const input = `[{"a":1},{"big":"${"x".repeat(10_000)}","nested":[{"]":"}"}]},{"a":3}]`;
    const result = await readAll(json, input, { limits: { maxRowBytes: 100 }, chunkSize: 10 });
    expect(values(result)).toEqual([{ a: 1 }, { a: 3 }]);
    expect(result.errors).toMatchObject([{ row: 2, reason: "element is larger than 100 bytes" }]);
  });

  it("reports an element whose object gives a key twice as a row error naming it, and reads on", async () => {
    const input = '[{"code":"A","title":"x","code":"B"},\n{"code":"C","details":{"score":1,"score":2}},\n{"code":"D","\\u0063ode":"E"},\n{"code":"F"}]';
    const result = await readAll(json, input, { chunkSize: 5 });
    expect(values(result)).toEqual([{ code: "F" }]);
    expect(result.fatal).toBeUndefined();
    expect(result.errors).toEqual([
      { row: 1, line: 1, column: "code", reason: 'duplicate key "code": the object gives it twice, and a key can hold one value; remove one of them' },
      { row: 2, line: 2, column: "details", reason: expect.stringMatching(/^duplicate key "details.score": /) },
      { row: 3, line: 3, column: "code", reason: expect.stringMatching(/^duplicate key "code": /) },
    ]);
  });

  it("reports an element with a nested integer longer than a number keeps exactly as a row error, and reads on", async () => {
    const result = await readAll(json, '[{"code":"A","details":{"ids":[1,12345678901234567890]}},\n{"code":"B","details":{"id":"12345678901234567890"}}]', { chunkSize: 7 });
    expect(values(result)).toEqual([{ code: "B", details: { id: "12345678901234567890" } }]);
    expect(result.errors).toEqual([
      { row: 1, line: 1, column: "details", reason: expect.stringMatching(/^the integer 12345678901234567890 at "details.ids\[1\]" has more digits than a number keeps exactly/) },
    ]);
  });

  it("notes the numbers written in a form String() does not give back, so a text column can keep them as written", async () => {
    const result = await readAll(json, '[{"id":12345678901234567890,"a":1.50,"b":-0,"c":1e21,"d":7,"e":2.5},{"d":8}]');
    expect(result.rows).toEqual([
      { row: 1, line: 1, values: { id: 12345678901234567000, a: 1.5, b: -0, c: 1e21, d: 7, e: 2.5 }, numberText: { id: "12345678901234567890", a: "1.50", b: "-0", c: "1e21" } },
      { row: 2, line: 1, values: { d: 8 } },
    ]);
  });

  it("reports an object with more keys than the column limit", async () => {
    const result = await readAll(json, '[{"a":1,"b":2,"c":3}]', { limits: { maxColumns: 2 } });
    expect(result.errors).toMatchObject([{ row: 1, reason: "object has more than 2 keys" }]);
  });
});
