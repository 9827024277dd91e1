/**
 * abortable() must not keep what it has passed on: an export or import holds
 * one batch at a time, whatever the size of the file.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { abortable } from "../../../services/transfer/core/abortable.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

async function* batches(count: number) {
  for (let b = 0; b < count; b++) yield Array.from({ length: 100 }, (_, i) => ({ id: `r${b}-${i}`, at: new Date() }));
}

describe("abortable", () => {
  it("lets a consumed batch be collected while the iteration is still running", async () => {
    const controller = new AbortController();
    let first: WeakRef<object> | undefined;
    let seen = 0;
    for await (const batch of abortable(batches(60), controller.signal)) {
      if (seen === 0) first = new WeakRef(batch);
      seen++;
      if (seen === 50) {
        await new Promise((r) => setImmediate(r));
        gc();
        expect(first!.deref()).toBeUndefined();
      }
    }
    expect(seen).toBe(60);
  });

  it("stops a wait on a stalled source as soon as the signal fires", async () => {
    const controller = new AbortController();
    const stalled: AsyncIterable<number> = { [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<number>>(() => undefined) }) };
    setTimeout(() => controller.abort(), 20);
    await expect(
      (async () => {
        for await (const _ of abortable(stalled, controller.signal)) void _;
      })(),
    ).rejects.toMatchObject({ name: expect.stringContaining("Cancel") });
  });
});
