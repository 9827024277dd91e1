/**
 * Makes waiting on an async iterable cancellable. A job's AbortSignal must stop
 * a transfer even while it is blocked on its source (a stalled upload, a
 * records cursor waiting on the network), not only between items; a plain
 * `for await` would wait for the next item first.
 */
import { TransferCancelledError, throwIfCancelled } from "./errors.js";

/**
 * Yields what `source` yields until `signal` fires, then throws
 * {@link TransferCancelledError} at once. The source is closed in `finally`
 * (awaited on a normal end; fire-and-forget when cancelled mid-wait, because a
 * generator stuck in `next()` cannot process `return()` until it wakes up).
 */
export async function* abortable<T>(source: AsyncIterable<T>, signal: AbortSignal | undefined): AsyncGenerator<T> {
  if (signal === undefined) {
    yield* source;
    return;
  }
  throwIfCancelled(signal);
  const iterator = source[Symbol.asyncIterator]();
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new TransferCancelledError({ cause: signal.reason }));
    signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  let pending: Promise<IteratorResult<T>> | undefined;
  let done = false;
  try {
    while (true) {
      pending = iterator.next();
      const next = await Promise.race([pending, aborted]);
      pending = undefined;
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
      throwIfCancelled(signal);
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    if (!done) {
      if (pending !== undefined) {
        pending.catch(() => undefined);
        void Promise.resolve(iterator.return?.()).catch(() => undefined);
      } else {
        await iterator.return?.();
      }
    }
  }
}
