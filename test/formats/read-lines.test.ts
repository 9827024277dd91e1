/**
 * The SDK's readLines: the lines of a byte stream however it is cut, one line
 * held at a time, an over-long line reported by its number without being kept.
 */
import { describe, expect, it } from "vitest";
import { readLines, type LineItem } from "../../formats/_sdk/index.js";

async function* chunks(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text, "utf8");
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** Every line as text (copied at once: a line's bytes are valid only until the next pull), with the batches they came in. */
async function lines(text: string, size: number, max = 100): Promise<{ lines: (string | { oversize: number })[]; batches: number }> {
  const out: (string | { oversize: number })[] = [];
  let batches = 0;
  for await (const batch of readLines(chunks(text, size), max)) {
    batches++;
    expect(batch.length).toBeGreaterThan(0);
    for (const item of batch as LineItem[]) out.push(item.kind === "line" ? Buffer.from(item.bytes).toString("utf8") : { oversize: item.line });
  }
  return { lines: out, batches };
}

describe("readLines", () => {
  it("gives the same lines in chunks of one byte as in one chunk, CRLF and a last line without a break included", async () => {
    const text = "first\r\nsecond — ünïcode\n\nlast";
    const whole = await lines(text, 1 << 16);
    expect(whole.lines).toEqual(["first", "second — ünïcode", "", "last"]);
    for (const size of [1, 2, 3, 7]) expect((await lines(text, size)).lines, `chunks of ${size}`).toEqual(whole.lines);
  });

  it("hands on the lines each chunk completed, before the next chunk is read", async () => {
    expect((await lines("a\nb\nc\n", 2)).batches).toBe(3);
  });

  it("reports a line over the limit by its number and goes on with the next", async () => {
    const result = await lines(`ok\n${"x".repeat(50)}\nafter\n`, 4, 10);
    expect(result.lines).toEqual(["ok", { oversize: 2 }, "after"]);
  });

  it("gives nothing for an empty stream", async () => {
    expect((await lines("", 4)).lines).toEqual([]);
  });
});
