/**
 * Overlaps two stages of a stream of requests handled one at a time: while
 * request N's second stage (`finish`: a database write) runs, request N+1 is
 * read and its first stage (`prepare`: checks, reads, what must precede the
 * write) started, where the caller says the two may overlap. Outputs come in
 * request order, and every `finish` starts only after the one before it has
 * ended, so the writes of a stream keep their order; only the preparing of
 * the next one moves earlier.
 *
 * Why: a WriteRecords stream (the records service) spent ~10 ms of every
 * ~50 ms batch validating, checking references and remembering the writes
 * for a revert while the database waited for the next insert (bench
 * `e2e-import-insert`, 500-record batches, FerretDB/SQLite; bench/README.md,
 * 2 December 2026). Finishing two batches at once as well was measured and
 * not kept: FerretDB/SQLite took two concurrent inserts no faster there.
 */

export interface PrepareAheadSteps<Request, Decoded, Prepared, Output> {
  /** Synchronous checks of a request as it arrives (what it is, its keys); a throw fails the stream at that request's turn. */
  decode(request: Request): Decoded;
  /** Whether `next` may be prepared while `current` is being finished. */
  mayOverlap(current: Decoded, next: Decoded): boolean;
  prepare(decoded: Decoded): Promise<Prepared>;
  finish(prepared: Prepared): Promise<Output>;
  /** Called for a prepared request that will not be finished (the stream ended early or failed). */
  discard(prepared: Prepared): Promise<void>;
  /** Checked before each prepare and finish: true ends the stream quietly there (the caller went away). */
  stopped?(): boolean;
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

function settle<T>(work: () => Promise<T>): Promise<Settled<T>> {
  let running: Promise<T>;
  try {
    running = work();
  } catch (error) {
    return Promise.resolve({ ok: false, error });
  }
  return running.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

function decodeSafely<Request, Decoded>(decode: (request: Request) => Decoded, request: Request): Settled<Decoded> {
  try {
    return { ok: true, value: decode(request) };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Yields `finish(prepare(decode(request)))` for each request, in order,
 * preparing at most one request ahead. An error of any stage reaches the
 * consumer at its request's turn, after the outputs of the requests before
 * it. When the consumer stops, or a stage fails, a request prepared ahead is
 * discarded and the source closed.
 */
export async function* prepareAhead<Request, Decoded, Prepared, Output>(requests: AsyncIterable<Request>, steps: PrepareAheadSteps<Request, Decoded, Prepared, Output>): AsyncGenerator<Output> {
  const iterator = requests[Symbol.asyncIterator]();
  let sourceDone = false;
  /** A read of the source not settled yet: closing the source then must not wait for it. */
  let reading: Promise<Settled<IteratorResult<Request>>> | undefined;
  /** Prepared, not finished yet: discarded if the stream ends first. */
  const unfinished = new Set<Promise<Settled<Prepared>>>();
  const startPrepare = (decoded: Decoded) => {
    const prepared = settle(() => steps.prepare(decoded));
    unfinished.add(prepared);
    return prepared;
  };
  const read = () => {
    const pending = settle(() => iterator.next());
    reading = pending;
    void pending.then(() => {
      if (reading === pending) reading = undefined;
    });
    return pending;
  };
  try {
    let result = await read();
    let current: { decoded: Settled<Decoded>; prepared?: Promise<Settled<Prepared>> } | undefined;
    while (true) {
      if (!current) {
        if (!result.ok) {
          sourceDone = true;
          throw result.error;
        }
        if (result.value.done) {
          sourceDone = true;
          return;
        }
        current = { decoded: decodeSafely(steps.decode, result.value.value) };
      }
      if (!current.decoded.ok) throw current.decoded.error;
      if (!current.prepared && steps.stopped?.()) return;
      const decoded = current.decoded.value;
      const preparing = current.prepared ?? startPrepare(decoded);
      const prepared = await preparing;
      if (!prepared.ok) throw prepared.error;
      if (steps.stopped?.()) return;
      unfinished.delete(preparing);
      const finishing = settle(() => steps.finish(prepared.value));
      // Read the next request while this one finishes, and prepare it now where it may overlap.
      const nextRead = read();
      const first = await Promise.race([nextRead, finishing.then(() => undefined)]);
      let next: typeof current | undefined;
      if (first?.ok && !first.value.done) {
        next = { decoded: decodeSafely(steps.decode, first.value.value) };
        const nextDecoded = next.decoded;
        if (nextDecoded.ok && steps.mayOverlap(decoded, nextDecoded.value)) next.prepared = startPrepare(nextDecoded.value);
      }
      const finished = await finishing;
      if (!finished.ok) throw finished.error;
      yield finished.value;
      result = await nextRead;
      current = next;
    }
  } finally {
    for (const left of unfinished) {
      const prepared = await left;
      if (prepared.ok) await steps.discard(prepared.value).catch(() => undefined);
    }
    if (!sourceDone) {
      // An async generator's return() waits for a next() in progress, which may never settle once the caller is gone.
      const closing = Promise.resolve(iterator.return?.()).catch(() => undefined);
      if (!reading) await closing;
    }
  }
}
