/**
 * Splits a byte stream into lines without holding more than one line.
 *
 * Works on bytes, not text: a newline byte never occurs inside a UTF-8
 * multibyte sequence, so lines can be cut before decoding, and the length limit
 * is a true byte limit, checked before a partial line is kept.
 */

export type LineItem =
  /** `bytes` (without the line break) is only valid until the next `push`. */
  { kind: "line"; line: number; bytes: Uint8Array } | { kind: "oversize"; line: number; size: number };

const LF = 10;
const CR = 13;

export class LineSplitter {
  private pieces: Uint8Array[] = [];
  private size = 0;
  private oversize = false;
  private line = 1;

  constructor(private readonly maxLineBytes: number) {}

  push(chunk: Uint8Array, out: LineItem[]): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(LF, start);
      if (nl === -1) break;
      this.emit(chunk.subarray(start, nl), out);
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.length - start;
      if (!this.oversize && this.size + rest > this.maxLineBytes) {
        this.oversize = true;
        this.pieces = [];
      }
      // Copied: the producer may reuse its chunk after we return.
      if (!this.oversize) this.pieces.push(chunk.slice(start));
      this.size += rest;
    }
  }

  /** The last line need not end with a line break. */
  end(out: LineItem[]): void {
    if (this.size > 0 || this.oversize) this.emit(new Uint8Array(0), out);
  }

  private emit(tail: Uint8Array, out: LineItem[]): void {
    const size = this.size + tail.length;
    if (this.oversize || size > this.maxLineBytes) {
      out.push({ kind: "oversize", line: this.line, size });
    } else {
      let bytes = this.pieces.length === 0 ? tail : Buffer.concat([...this.pieces, tail]);
      if (bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
      out.push({ kind: "line", line: this.line, bytes });
    }
    this.line++;
    this.pieces = [];
    this.size = 0;
    this.oversize = false;
  }
}

/**
 * The lines of a byte stream, as the lines each input chunk completed (the
 * last line at the end, with or without its line break). A line's `bytes` are
 * valid until the next lines are asked for: convert them before pulling again.
 * What a line-based reader (NDJSON, the scaffold's readers) loops over, so
 * none of them writes the push/convert/end dance again.
 */
export async function* readLines(input: AsyncIterable<Uint8Array>, maxLineBytes: number): AsyncGenerator<LineItem[]> {
  const splitter = new LineSplitter(maxLineBytes);
  const lines: LineItem[] = [];
  for await (const chunk of input) {
    splitter.push(chunk, lines);
    if (lines.length > 0) yield lines.splice(0);
  }
  splitter.end(lines);
  if (lines.length > 0) yield lines.splice(0);
}
