/**
 * The parts of a multi-part write (a bundle export's workbook: a sheet per
 * entity), taken one after another from the single rows stream the SDK
 * hands a writer, where an empty batch ends a part (`WriteContext.parts`).
 * A single-part write is one part: the whole stream, its context's columns
 * and source.
 */
import type { Row, WriteContext, WritePart } from "@data-exchange/format-sdk";

export interface PartRows {
  part: WritePart;
  /** This part's batches: up to the next empty batch, or the end of the stream. */
  rows: AsyncIterable<Row[]>;
}

/**
 * Each part with its rows, in order. A part's rows must be read to their end
 * before the next part is taken (a sheet is written whole before the next).
 */
export async function* writeParts<O>(rows: AsyncIterable<Row[]>, ctx: WriteContext<O>): AsyncGenerator<PartRows> {
  const parts: WritePart[] = ctx.parts ?? [{ columns: ctx.columns, source: ctx.source ?? { entity: "" } }];
  const source = rows[Symbol.asyncIterator]();
  let ended = false;
  async function* partRows(): AsyncGenerator<Row[]> {
    while (!ended) {
      const next = await source.next();
      if (next.done) {
        ended = true;
        return;
      }
      // The separator is only one when several parts share the stream; a single part skips empty batches.
      if (next.value.length === 0) {
        if (ctx.parts) return;
        continue;
      }
      yield next.value;
    }
  }
  try {
    for (const part of parts) yield { part, rows: partRows() };
  } finally {
    await source.return?.(undefined);
  }
}
