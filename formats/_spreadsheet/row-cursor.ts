/**
 * Rows taken from a stream of batches in runs of a chosen length, so that a
 * writer can end one sheet at its row limit and go on with the rest of the
 * same batch on the next sheet.
 */
import type { Row } from "@data-exchange/format-sdk";

export class RowCursor {
  private batch: Row[] = [];
  private at = 0;
  private done = false;
  private readonly source: AsyncIterator<Row[]>;

  constructor(rows: AsyncIterable<Row[]>) {
    this.source = rows[Symbol.asyncIterator]();
  }

  /** Up to `max` rows (one batch at most, never an empty array), or undefined at the end. */
  async take(max: number): Promise<Row[] | undefined> {
    while (this.at >= this.batch.length) {
      if (this.done) return undefined;
      const next = await this.source.next();
      if (next.done) {
        this.done = true;
        this.batch = [];
        return undefined;
      }
      this.batch = next.value;
      this.at = 0;
    }
    const end = Math.min(this.batch.length, this.at + max);
    const out = this.at === 0 && end === this.batch.length ? this.batch : this.batch.slice(this.at, end);
    this.at = end;
    return out;
  }

  /** Batches holding `max` rows in all at most (fewer at the end of the rows): one sheet's worth. */
  async *upTo(max: number): AsyncGenerator<Row[]> {
    for (let left = max; left > 0; ) {
      const batch = await this.take(left);
      if (batch === undefined) return;
      left -= batch.length;
      yield batch;
    }
  }

  /** Rows from the batch at hand without taking them (for sizing columns from the first rows). */
  async peek(): Promise<Row[]> {
    while (this.at >= this.batch.length && !this.done) {
      const next = await this.source.next();
      if (next.done) this.done = true;
      else {
        this.batch = next.value;
        this.at = 0;
      }
    }
    return this.batch.slice(this.at);
  }

  /** True when no row is left (pulls the next batch to find out). */
  async exhausted(): Promise<boolean> {
    return (await this.peek()).length === 0 && this.done;
  }

  async close(): Promise<void> {
    await this.source.return?.(undefined);
  }
}
