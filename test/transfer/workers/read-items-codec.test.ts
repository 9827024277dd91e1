/**
 * The packing of a reader's batches for the trip from a worker: whatever a
 * reader may yield comes out as it went in, through a real MessageChannel.
 */
import { MessageChannel } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import type { ReadItem } from "../../../formats/_sdk/index.js";
import { packReadItems, unpackReadItems, type PackedReadItems } from "../../../services/transfer/plugins/workers/read-items-codec.js";

async function throughChannel(items: ReadItem[]): Promise<ReadItem[]> {
  const { port1, port2 } = new MessageChannel();
  try {
    const received = new Promise<PackedReadItems>((resolve) => port2.once("message", resolve));
    const { packed, transfer } = packReadItems(items);
    port1.postMessage(packed, transfer);
    return unpackReadItems(await received);
  } finally {
    port1.close();
  }
}

describe("packed read items", () => {
  it("carry strings, numbers, booleans, null, undefined, nested values, row errors and missing lines unchanged, in order", async () => {
    const items: ReadItem[] = [
      {
        kind: "row",
        row: {
          row: 1,
          line: 2,
          values: { name: "Ada", empty: "", unicode: "漢字 😀 e\u0301", score: 3.5, negativeZero: -0, notANumber: NaN, yes: true, no: false, nothing: null, missing: undefined },
        },
      },
      { kind: "error", error: { row: 2, line: 3, column: "name", reason: "too long" } },
      { kind: "row", row: { row: 3, values: { nested: { list: [1, "two", null], deep: { x: 1 } }, name: "no line" } } },
      { kind: "row", row: { row: 4, line: 5, values: {} } },
    ];
    const out = await throughChannel(items);
    expect(out).toEqual(items);
    const values = (item: ReadItem | undefined) => (item?.kind === "row" ? item.row.values : {});
    expect(Object.keys(values(out[0]))).toEqual(Object.keys(values(items[0])));
    expect(Object.is(values(out[0]).negativeZero, -0)).toBe(true);
    expect(out[2]?.kind === "row" && "line" in out[2].row).toBe(false);
  });

  it("keeps a __proto__ key a value of the row instead of the row's prototype", async () => {
    const values = JSON.parse('{"__proto__": "sneaky", "name": "x"}') as Record<string, unknown>;
    const [item] = await throughChannel([{ kind: "row", row: { row: 1, values } }]);
    const back = item?.kind === "row" ? item.row.values : {};
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(back, "__proto__")?.value).toBe("sneaky");
    expect(back.name).toBe("x");
  });

  it("carry the text a JSON file wrote its numbers in (numberText) beside the values, between plain rows", async () => {
    const items: ReadItem[] = [
      { kind: "row", row: { row: 1, line: 1, values: { a: 1 } } },
      { kind: "row", row: { row: 2, line: 2, values: { title: 1.5, id: 12345678901234567000 }, numberText: { title: "1.50", id: "12345678901234567890" } } },
      { kind: "row", row: { row: 3, line: 3, values: { a: 3 } } },
    ];
    expect(await throughChannel(items)).toEqual(items);
  });

  it("packs an empty batch", async () => {
    expect(await throughChannel([])).toEqual([]);
  });
});
