/**
 * Keeps a slow source busy while its consumer works. A pull-based chain
 * (database cursor → records service → transfer service → client) otherwise
 * runs one link at a time: the cursor fetches its next batch only when the
 * gRPC stream asks for it, and the stream asks only once the previous message
 * is sent, so the database idles while we encode and the encoder idles while
 * the database scans. Profiles of an export showed both services ~67 % idle
 * for exactly that reason.
 */

/**
 * Yields what `source` yields, in order, while pulling up to `depth` items
 * ahead of the consumer (plus the one being fetched). Memory stays bounded by
 * `depth` items. An error from the source reaches the consumer after the
 * items that came before it. When the consumer stops early, the read-ahead
 * stops pulling, waits for a fetch in progress, and closes the source
 * (`return()`), so a database cursor behind it is closed as usual.
 */
export async function* readAhead<T>(source: AsyncIterable<T>, depth: number): AsyncGenerator<T> {
  if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`readAhead depth must be a whole number ≥ 1, not ${depth}`);
  const iterator = source[Symbol.asyncIterator]();
  const buffer: T[] = [];
  let failure: { error: unknown } | undefined;
  let sourceDone = false;
  let stopped = false;
  let wakeConsumer: (() => void) | undefined;
  let wakeProducer: (() => void) | undefined;
  const wake = (which: "consumer" | "producer") => {
    const fn = which === "consumer" ? wakeConsumer : wakeProducer;
    if (which === "consumer") wakeConsumer = undefined;
    else wakeProducer = undefined;
    fn?.();
  };

  const pump = (async () => {
    try {
      while (!stopped) {
        if (buffer.length >= depth) {
          await new Promise<void>((resolve) => (wakeProducer = resolve));
          continue;
        }
        const next = await iterator.next();
        if (next.done) {
          sourceDone = true;
          return;
        }
        buffer.push(next.value);
        wake("consumer");
      }
    } catch (error) {
      sourceDone = true; // a generator that threw is finished; nothing to close
      failure = { error };
    } finally {
      wake("consumer");
    }
  })();

  try {
    while (true) {
      if (buffer.length > 0) {
        const item = buffer.shift() as T;
        wake("producer");
        yield item;
        continue;
      }
      if (failure) throw failure.error;
      if (sourceDone) return;
      // Checked and set in one synchronous step, so a push or the pump's end always finds the waiter.
      await new Promise<void>((resolve) => (wakeConsumer = resolve));
    }
  } finally {
    stopped = true;
    wake("producer");
    await pump;
    if (!sourceDone) await iterator.return?.();
  }
}
