import { describe, expect, it } from "vitest";
import ndjson from "../../formats/ndjson/index.js";
import { readAll, values, writeAll } from "./support.js";

const cols = [
  { key: "name", label: "Full name", type: "string" as const },
  { key: "tags", label: "Tags", type: "string_list" as const },
];

describe("ndjson plugin", () => {
  it("writes one compact object per line, keys only, missing cells left out", async () => {
    const out = Buffer.from(await writeAll(ndjson, [{ name: "Ada", tags: ["x"] }, { name: "line\nbreak" }], cols)).toString();
    expect(out).toBe('{"name":"Ada","tags":["x"]}\n{"name":"line\\nbreak"}\n');
  });

  it("writes nothing at all for zero rows", async () => {
    expect(await writeAll(ndjson, [], cols)).toHaveLength(0);
  });

  it("numbers rows by record and reports physical lines, skipping blank lines", async () => {
    const result = await readAll(ndjson, '\n{"a":1}\r\n\n{"a":2}\n   \n{"a":3}', { chunkSize: 3 });
    expect(result.rows).toEqual([
      { row: 1, line: 2, values: { a: 1 } },
      { row: 2, line: 4, values: { a: 2 } },
      { row: 3, line: 6, values: { a: 3 } },
    ]);
  });

  it("reports a bad line with its row and line and continues with the next", async () => {
    const result = await readAll(ndjson, '{"a":1}\n{"a":1,}\n"text"\n{"a":4}\n');
    expect(values(result)).toEqual([{ a: 1 }, { a: 4 }]);
    expect(result.errors).toMatchObject([
      { row: 2, line: 2, reason: expect.stringMatching(/^invalid JSON/) },
      { row: 3, line: 3, reason: "expected an object, got a string" },
    ]);
  });

  it("reports a line whose object gives a key twice, at any depth, as a row error naming the key, and reads on", async () => {
    const input = '{"code":"A","title":"x","code":"B"}\n{"code":"C","details":{"score":1,"n":{"x":1},"score":2}}\n{"a":1,"\\u0061":2}\n{"code":"D"}\n';
    const result = await readAll(ndjson, input, { chunkSize: 7 });
    expect(values(result)).toEqual([{ code: "D" }]);
    expect(result.errors).toEqual([
      { row: 1, line: 1, column: "code", reason: 'duplicate key "code": the object gives it twice, and a key can hold one value; remove one of them' },
      { row: 2, line: 2, column: "details", reason: expect.stringMatching(/^duplicate key "details.score": /) },
      { row: 3, line: 3, column: "a", reason: expect.stringMatching(/^duplicate key "a": /) },
    ]);
  });

  it("notes the numbers written in a form String() does not give back, so a text column can keep them as written", async () => {
    const result = await readAll(ndjson, '{"id":12345678901234567890,"a":1.50,"b":-0,"c":1e21,"d":7,"e":2.5}\n{"d":1.0}\n{"d":8}\n');
    expect(result.rows).toEqual([
      { row: 1, line: 1, values: { id: 12345678901234567000, a: 1.5, b: -0, c: 1e21, d: 7, e: 2.5 }, numberText: { id: "12345678901234567890", a: "1.50", b: "-0", c: "1e21" } },
      { row: 2, line: 2, values: { d: 1 }, numberText: { d: "1.0" } },
      { row: 3, line: 3, values: { d: 8 } },
    ]);
  });

  it("skips a line over the size limit without buffering it", async () => {
    const result = await readAll(ndjson, `{"a":1}\n{"big":"${"x".repeat(5000)}"}\n{"a":3}\n`, { limits: { maxRowBytes: 64 }, chunkSize: 100 });
    expect(values(result)).toEqual([{ a: 1 }, { a: 3 }]);
    expect(result.errors).toMatchObject([{ row: 2, line: 2, reason: "line is larger than 64 bytes" }]);
  });

  it("ignores a byte order mark before the first line", async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}\n')]);
    expect(values(await readAll(ndjson, bytes, { chunkSize: 1 }))).toEqual([{ a: 1 }]);
  });
});
