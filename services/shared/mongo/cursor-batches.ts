/**
 * A cursor read as arrays of up to `size` items: what every streaming reader
 * here hands on (one message, one plugin call per batch rather than per
 * document). The cursor is closed in `finally`, so a consumer that stops
 * early, or fails, never leaves it open on the server.
 */
import type { AbstractCursor } from "mongodb";

export async function* cursorBatches<D, T = D>(cursor: AbstractCursor<D>, size: number, map: (doc: D) => T = (doc) => doc as unknown as T): AsyncGenerator<T[]> {
  try {
    let batch: T[] = [];
    for await (const doc of cursor) {
      batch.push(map(doc));
      if (batch.length >= size) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  } finally {
    await cursor.close();
  }
}
