/**
 * CSV bytes → rows of raw strings, streaming.
 *
 * Decoding (BOM, encodings, multibyte characters split across chunks) is the
 * SDK's; tokenizing is {@link CsvTokenizer}'s; this module adds the file-level
 * rules: the header row (reported to the core as a `header` item before any
 * row) and how it maps to column keys, the expected field count, row
 * numbering, formula-escape removal, and batching.
 */
import { FormatError, TEXT_ENCODINGS, decodeText, unescapeFormula, type Column, type ReadContext, type ReadEncoding, type ReadHeader, type ReadItem } from "@data-exchange/format-sdk";
import { CsvTokenizer, UnterminatedQuoteError, type RawRecord } from "./csv-tokenizer.js";
import type { CsvOptions } from "./options.js";
import { SNIFF_CHARS, sniffDelimiter } from "./sniff-delimiter.js";

export async function* readCsv(input: AsyncIterable<Uint8Array>, ctx: ReadContext<CsvOptions>): AsyncGenerator<ReadItem[]> {
  const o = ctx.options;
  let batch: ReadItem[] = [];
  let encoding: ReadEncoding | undefined;
  const texts = decodeText(input, o.encoding, (e) => {
    encoding = e;
    batch.push({ kind: "encoding", encoding: e });
  });
  try {
    // Sniffing needs the first lines before tokenizing can start; the sample is bounded.
    let sample = "";
    let exhausted = false;
    /** Undecodable bytes met while sampling: the text before them is still read, then this is thrown. */
    let stop: FormatError | undefined;
    if (o.delimiter === undefined) {
      while (sample.length < SNIFF_CHARS) {
        let next: IteratorResult<string>;
        try {
          next = await texts.next();
        } catch (err) {
          if (!(err instanceof FormatError)) throw err;
          stop = err;
          exhausted = true;
          break;
        }
        if (next.done) {
          exhausted = true;
          break;
        }
        sample += next.value;
      }
    }
    const delimiter = o.delimiter ?? sniffDelimiter(sample, o.quote, exhausted);
    const tokenizer = new CsvTokenizer({ delimiter, quote: o.quote, escape: o.escape ?? o.quote }, { maxRecordChars: ctx.limits.maxRowBytes, maxFields: ctx.limits.maxColumns });
    const detected = (): Record<string, unknown> | undefined => {
      const found: Record<string, unknown> = {};
      if (o.delimiter === undefined) found.delimiter = delimiter;
      if (encoding?.source === "detected" && (TEXT_ENCODINGS as readonly string[]).includes(encoding.name)) found.encoding = encoding.name;
      return Object.keys(found).length > 0 ? found : undefined;
    };
    const rows = new RowAssembler(ctx.columns, o.header, o.formulaEscape, detected);
    const raw: RawRecord[] = [];
    const feed = (text: string) => {
      raw.length = 0;
      tokenizer.push(text, raw);
      for (const record of raw) rows.add(record, batch);
    };
    // One batch per input chunk that completed rows: rows flow on as soon as they exist.
    if (sample.length > 0) feed(sample);
    if (stop !== undefined) throw stop;
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
    rows.end(batch);
    if (batch.length > 0) yield batch;
  } catch (err) {
    // Rows (and the header) completed before a failure are good: hand them over first.
    if (batch.length > 0 && err instanceof FormatError) yield batch;
    throw err;
  } finally {
    await texts.return(undefined);
  }
}

/** Turns raw records into a header item and numbered rows keyed by column key, or row errors. */
class RowAssembler {
  private keys: string[] | undefined;
  private row = 0;
  private headerPending: boolean;

  constructor(
    private readonly columns: Column[] | undefined,
    readonly header: boolean,
    private readonly unescapeFormulas: boolean,
    private readonly detected: () => Record<string, unknown> | undefined,
  ) {
    this.headerPending = header;
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
      this.keys = headerKeys(record, this.columns, this.unescapeFormulas);
      this.announce(record.line, out);
      return;
    }
    const row = ++this.row;
    if (this.keys === undefined) {
      // Without a header the first record fixes the width: column_1, column_2, … (or the given columns' keys).
      this.keys = this.columns?.map((c) => c.key) ?? record.fields.map((_, i) => `column_${i + 1}`);
      this.announce(undefined, out);
    }
    const keys = this.keys;
    if (record.error !== undefined) {
      out.push({ kind: "error", error: { row, line: record.line, reason: record.error } });
      return;
    }
    const fields = record.fields;
    if (fields.length !== keys.length) {
      const error = { row, line: record.line, reason: `expected ${keys.length} fields, found ${fields.length}`, values: this.values(keys, fields) };
      if (fields.length > keys.length) error.reason += ` (the extra ones start with ${JSON.stringify(fields[keys.length] ?? "")})`;
      out.push({ kind: "error", error });
      return;
    }
    out.push({ kind: "row", row: { row, line: record.line, values: this.values(keys, fields) } });
  }

  /** A file without a single record has no header row: refused, rather than read as zero rows. */
  end(out: ReadItem[]): void {
    if (this.keys !== undefined) return;
    if (this.headerPending) throw new FormatError("the file has no header row (it is empty)", { line: 1 });
    this.keys = this.columns?.map((c) => c.key) ?? [];
    this.announce(undefined, out);
  }

  private values(keys: string[], fields: (string | undefined)[]): Record<string, unknown> {
    const values: Record<string, unknown> = {};
    const n = Math.min(keys.length, fields.length);
    for (let i = 0; i < n; i++) {
      const v = fields[i];
      if (v !== undefined) values[keys[i]!] = this.unescapeFormulas ? unescapeFormula(v) : v;
    }
    return values;
  }

  private announce(line: number | undefined, out: ReadItem[]): void {
    const header: ReadHeader = { names: [...this.keys!] };
    if (line !== undefined) header.line = line;
    const detected = this.detected();
    if (detected !== undefined) header.detected = detected;
    out.push({ kind: "header", header });
  }
}

/**
 * Maps header cells to column keys: a cell names a column by its key or its
 * label (case and surrounding spaces ignored), so a file exported for humans
 * (labels) imports back. Unknown names are kept as they are (trimmed), for the
 * core to report; two cells naming one column would make values ambiguous, so
 * they fail, naming the header's line.
 */
function headerKeys(record: RawRecord, columns: Column[] | undefined, unescapeFormulas: boolean): string[] {
  const byName = new Map<string, string>();
  for (const c of columns ?? []) {
    byName.set(c.label.trim().toLowerCase(), c.key);
  }
  for (const c of columns ?? []) byName.set(c.key.trim().toLowerCase(), c.key); // keys win over labels
  const keys = record.fields.map((cell, i) => {
    const name = (unescapeFormulas ? unescapeFormula(cell ?? "") : (cell ?? "")).trim();
    if (name === "") return `column_${i + 1}`;
    return byName.get(name.toLowerCase()) ?? name;
  });
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k)) throw new FormatError(`the header row names column ${JSON.stringify(k)} twice`, { line: record.line, column: k });
    seen.add(k);
  }
  return keys;
}
