/**
 * Evidence for the transfer service's memory growth: `abortable()` races every
 * `next()` against one long-lived abort promise, and each `Promise.race` leaves
 * a reaction on it that keeps the race's result (a whole batch) reachable until
 * the iteration ends. A per-call listener keeps nothing.
 *
 *   node --expose-gc --import tsx bench/checks/abortable-retention.ts
 */
import { abortable } from "../../services/transfer/core/abortable.js";
async function* fixedAbortable<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  while (true) {
    const pending = it.next();
    const next = await new Promise<IteratorResult<T>>((resolve, reject) => {
      const onAbort = () => reject(new Error("cancelled"));
      signal.addEventListener("abort", onAbort, { once: true });
      pending.then(
        (r) => {
          signal.removeEventListener("abort", onAbort);
          resolve(r);
        },
        (e) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      );
    });
    if (next.done) return;
    yield next.value;
  }
}
async function* batches(n: number) {
  for (let b = 0; b < n; b++) yield Array.from({ length: 500 }, (_, i) => ({ id: `s${b * 500 + i}`, at: new Date(), s: "completed" }));
}
for (const [name, fn] of [
  ["abortable (services/transfer/core)", abortable],
  ["per-call listener", fixedAbortable],
] as const) {
  const ac = new AbortController();
  let n = 0;
  let h = 0;
  for await (const b of fn(batches(200), ac.signal)) {
    n += b.length;
    if (n === 100000) {
      globalThis.gc!();
      h = process.memoryUsage().heapUsed / 1e6;
    }
  }
  console.log(`${name}: ${n} records through, heap after GC ${h.toFixed(0)} MB`);
}
