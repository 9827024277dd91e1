/**
 * readAhead: a bounded prefetch between a slow source and its consumer. The
 * properties that matter are order, the bound, errors after the items that
 * came first, and a closed source whenever the consumer stops.
 */
import { describe, expect, it } from "vitest";
import { readAhead } from "../../services/shared/streams/read-ahead.js";

/** A source that records how far it was pulled and whether it was closed. */
function trackedSource(count: number, options: { failAt?: number; delayMs?: number } = {}) {
  const state = { pulled: 0, closed: false, finished: false };
  const source = (async function* () {
    try {
      for (let i = 0; i < count; i++) {
        if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
        else await Promise.resolve();
        if (options.failAt === i) throw new Error(`source failed at ${i}`);
        state.pulled = i + 1;
        yield i;
      }
      state.finished = true;
    } finally {
      state.closed = true;
    }
  })();
  return { source, state };
}

/**
 * Lets every pending promise callback run. The tracked source without a delay
 * only ever waits on promises, so once a macrotask (setImmediate) comes round
 * the read-ahead has pulled all it will: it is waiting for the consumer.
 */
const quiescent = () => new Promise((r) => setImmediate(r));

describe("readAhead", () => {
  it("yields every item in order", async () => {
    const { source, state } = trackedSource(1000);
    const seen: number[] = [];
    for await (const n of readAhead(source, 3)) seen.push(n);
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(state.finished).toBe(true);
  });

  it("pulls ahead while the consumer works, but never more than depth items beyond what it took", async () => {
    const { source, state } = trackedSource(100);
    const iterator = readAhead(source, 4);
    expect((await iterator.next()).value).toBe(0);
    await quiescent(); // the consumer is busy; the pump fills the buffer and then waits for room
    expect(state.pulled).toBe(1 + 4);
    expect((await iterator.next()).value).toBe(1);
    await quiescent();
    expect(state.pulled).toBe(2 + 4);
    await iterator.return(undefined);
    expect(state.closed).toBe(true);
  });

  it("delivers the items before a failure, then the failure", async () => {
    const { source } = trackedSource(10, { failAt: 5 });
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const n of readAhead(source, 8)) seen.push(n);
      })(),
    ).rejects.toThrow("source failed at 5");
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });

  it("closes the source when the consumer stops early", async () => {
    const { source, state } = trackedSource(1000, { delayMs: 1 });
    for await (const n of readAhead(source, 2)) if (n === 3) break;
    expect(state.closed).toBe(true);
    expect(state.finished).toBe(false);
    expect(state.pulled).toBeLessThanOrEqual(3 + 1 + 2 + 1);
  });

  it("closes the source when the consumer throws", async () => {
    const { source, state } = trackedSource(1000);
    await expect(
      (async () => {
        for await (const n of readAhead(source, 2)) if (n === 10) throw new Error("consumer failed");
      })(),
    ).rejects.toThrow("consumer failed");
    expect(state.closed).toBe(true);
  });

  it("ends at once on an empty source, and refuses a depth below one", async () => {
    const { source } = trackedSource(0);
    const seen: number[] = [];
    for await (const n of readAhead(source, 1)) seen.push(n);
    expect(seen).toEqual([]);
    await expect(readAhead(trackedSource(1).source, 0).next()).rejects.toThrow(/depth/);
  });
});
