/**
 * CSV bytes → rows of raw strings, streaming.
 *
 * Decoding (BOM, multibyte characters split across chunks) is the SDK's;
 * tokenizing is {@link CsvTokenizer}'s; this module adds the file-level rules:
 * the header row and how it maps to column keys, the expected field count,
 * row numbering, and batching.
 */
import {
  FormatError,
  decodeText,
  type Column,
  type ReadContext,
  type ReadItem,
} from "../_sdk/index.js";
import { CsvTokenizer, UnterminatedQuoteError, type RawRecord } from "./csv-tokenizer.js";
import type { CsvOptions } from "./options.js";
import { SNIFF_CHARS, sniffDelimiter } from "./sniff-delimiter.js";

export async function* readCsv(input: AsyncIterable<Uint8Array>, ctx: ReadContext<CsvOptions>): AsyncGenerator<ReadItem[]> {
  const o = ctx.options;
  const texts = decodeText(input, o.encoding);
  try {
    // Sniffing needs the first lines before tokenizing can start; the sample is bounded.
    let sample = "";
    let exhausted = false;
    if (o.delimiter === undefined) {
      while (sample.length < SNIFF_CHARS) {
        const next = await texts.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        sample += next.value;
      }
    }
    const delimiter = o.delimiter ?? sniffDelimiter(sample, o.quote, exhausted);
    const tokenizer = new CsvTokenizer(
      { delimiter, quote: o.quote, escape: o.escape ?? o.quote },
      { maxRecordChars: ctx.limits.maxRowBytes, maxFields: ctx.limits.maxColumns },
    );
    const rows = new RowAssembler(ctx.columns, o.header);
    const raw: RawRecord[] = [];
    let batch: ReadItem[] = [];
    const feed = (text: string) => {
      raw.length = 0;
      tokenizer.push(text, raw);
      for (const record of raw) rows.add(record, batch);
    };
    // One batch per input chunk that completed rows: rows flow on as soon as they exist.
    if (sample.length > 0) feed(sample);
    if (batch.length > 0) {
      yield batch;
      batch = [];
    }
    if (!exhausted) {
      for await (const text of texts) {
        feed(text);
        if (batch.length > 0) {
          yield batch;
          batch = [];
        }
      }
    }
    raw.length = 0;
    try {
      tokenizer.end(raw);
    } catch (err) {
      if (err instanceof UnterminatedQuoteError) {
        if (batch.length > 0) yield batch; // rows before the broken one are good; hand them over first
        batch = [];
        const row = rows.nextRow();
        throw new FormatError("unterminated quoted field", { row: row > 0 ? row : undefined, line: err.line });
      }
      throw err;
    }
    for (const record of raw) rows.add(record, batch);
    if (batch.length > 0) yield batch;
  } finally {
    await texts.return(undefined);
  }
}

/** Turns raw records into numbered rows keyed by column key, or row errors. */
class RowAssembler {
  private keys: string[] | undefined;
  private row = 0;
  private headerPending: boolean;

  constructor(
    private readonly columns: Column[] | undefined,
    header: boolean,
  ) {
    this.headerPending = header;
    if (!header && columns !== undefined) this.keys = columns.map((c) => c.key);
  }

  /** Number the next data record would get. */
  nextRow(): number {
    return this.headerPending ? 0 : this.row + 1;
  }

  add(record: RawRecord, out: ReadItem[]): void {
    if (this.headerPending) {
      this.headerPending = false;
      if (record.error !== undefined) {
        throw new FormatError(`cannot read the header row: ${record.error}`, { line: record.line });
      }
      this.keys = headerKeys(record, this.columns);
      return;
    }
    const row = ++this.row;
    // Without header or columns, the first record fixes the width: column_1, column_2, …
    this.keys ??= record.fields.map((_, i) => `column_${i + 1}`);
    const keys = this.keys;
    if (record.error !== undefined) {
      out.push({ kind: "error", error: { row, line: record.line, reason: record.error } });
      return;
    }
    const fields = record.fields;
    if (fields.length !== keys.length) {
      out.push({
        kind: "error",
        error: { row, line: record.line, reason: `expected ${keys.length} fields, found ${fields.length}` },
      });
      return;
    }
    const values: Record<string, unknown> = {};
    for (let i = 0; i < fields.length; i++) {
      const v = fields[i];
      if (v !== undefined) values[keys[i]!] = v;
    }
    out.push({ kind: "row", row: { row, line: record.line, values } });
  }
}

/**
 * Maps header cells to column keys: a cell names a column by its key or its
 * label (case and surrounding spaces ignored), so a file exported for humans
 * (labels) imports back. Unknown names are kept as they are, for the core to
 * report; two cells naming one column would make values ambiguous, so they fail.
 */
function headerKeys(record: RawRecord, columns: Column[] | undefined): string[] {
  const byName = new Map<string, string>();
  for (const c of columns ?? []) {
    byName.set(c.label.trim().toLowerCase(), c.key);
  }
  for (const c of columns ?? []) byName.set(c.key.trim().toLowerCase(), c.key); // keys win over labels
  const keys = record.fields.map((cell, i) => {
    const name = (cell ?? "").trim();
    if (name === "") return `column_${i + 1}`;
    return byName.get(name.toLowerCase()) ?? name;
  });
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k)) throw new FormatError(`the header names column ${JSON.stringify(k)} twice`, { line: record.line, column: k });
    seen.add(k);
  }
  return keys;
}
