/**
 * Finds JSON values in a byte stream without parsing the whole document.
 *
 * In "array" mode it walks a top-level array and hands out each element's
 * bytes as soon as the element ends; in "value" mode it hands out the one
 * top-level value. It only tracks what decides where a value ends (string and
 * escape state, nesting depth) and validates the structure between values
 * (whitespace, commas, brackets); each value's own syntax is left to
 * `JSON.parse` on its slice, which is where the conformance comes from. That is
 * sound: every byte of the document is either checked here or inside a slice
 * that JSON.parse accepts, so an invalid document cannot pass.
 *
 * An element larger than `maxElementBytes` is not buffered: the scanner keeps
 * walking it and reports it as oversized, then continues with the next one.
 */
import { FormatError } from "@data-exchange/format-sdk";

export type ScanItem =
  /** A complete value: `bytes` is only valid until the next `push` call. `line`: 1-based line where it starts. */
  { kind: "value"; index: number; offset: number; line: number; bytes: Uint8Array } | { kind: "oversize"; index: number; offset: number; line: number; size: number };

enum State {
  Bom,
  Start,
  /** After `[`: an element or `]`. */
  ArrayOpen,
  /** After `,`: an element (a `]` would be a trailing comma). */
  ElementExpected,
  InValue,
  /** After an element: `,` or `]`. */
  AfterElement,
  /** After the array or the value: whitespace only. */
  Done,
}

const SP = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const BOM = [0xef, 0xbb, 0xbf];

function isWhitespace(b: number): boolean {
  return b === SP || b === LF || b === CR || b === TAB;
}

/** Bytes that end a bare scalar (number, true, false, null). */
function endsScalar(b: number): boolean {
  return isWhitespace(b) || b === COMMA || b === RBRACKET || b === RBRACE || b === LBRACKET || b === LBRACE || b === QUOTE || b === COLON;
}

export class JsonScanner {
  private state = State.Bom;
  private bomMatched = 0;
  /** Bytes of input before the current chunk. */
  private consumed = 0;
  /** 0-based index of the current/next element. */
  private index = 0;
  // The value being scanned.
  private depth = 0;
  private inString = false;
  private escaped = false;
  private scalar = false;
  private valueOffset = 0;
  /** Bytes of the value in earlier chunks. */
  private valueSize = 0;
  private pieces: Uint8Array[] = [];
  private oversize = false;
  private valueLine = 1;
  /** Line of the current chunk's byte `counted` (line breaks before it are counted). */
  private line = 1;
  private counted = 0;
  private chunk: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly mode: "array" | "value",
    private readonly maxElementBytes: number,
  ) {}

  /** Scans one chunk, appending complete values (or oversize reports) to `out`. */
  push(chunk: Uint8Array, out: ScanItem[]): void {
    const n = chunk.length;
    let i = 0;
    this.chunk = chunk;
    this.counted = 0;
    /** Where the current value's bytes start in this chunk. */
    let valueStart = 0;
    while (i < n) {
      const b = chunk[i]!;
      switch (this.state) {
        case State.Bom:
          // A UTF-8 byte order mark is tolerated at the very start (Windows tools write one).
          if (b === BOM[this.bomMatched]) {
            this.bomMatched++;
            i++;
            if (this.bomMatched === BOM.length) this.state = State.Start;
          } else if (this.bomMatched > 0) {
            this.fail("incomplete byte order mark", i);
          } else if (this.consumed + i === 0 && (b === 0xff || b === 0xfe)) {
            this.fail("the file starts with a UTF-16 byte order mark: JSON must be UTF-8, so save the file as UTF-8", i);
          } else {
            this.state = State.Start;
          }
          break;
        case State.Start:
          if (isWhitespace(b)) i++;
          else if (this.mode === "value") {
            valueStart = i;
            this.beginValue(b, i);
            i++;
          } else if (b === LBRACKET) {
            this.state = State.ArrayOpen;
            i++;
          } else this.fail("expected a JSON array ('[')", i);
          break;
        case State.ArrayOpen:
        case State.ElementExpected:
          if (isWhitespace(b)) i++;
          else if (b === RBRACKET) {
            if (this.state === State.ElementExpected) this.fail("trailing comma before ']'", i);
            this.state = State.Done;
            i++;
          } else if (b === COMMA) {
            this.fail("missing array element before ','", i);
          } else {
            valueStart = i;
            this.beginValue(b, i);
            i++;
          }
          break;
        case State.InValue: {
          // Hot loop: stays here until the value or the chunk ends.
          let j = i;
          let done = false;
          if (this.scalar) {
            while (j < n && !endsScalar(chunk[j]!)) j++;
            done = j < n;
          } else {
            let depth = this.depth;
            let inString = this.inString;
            let escaped = this.escaped;
            for (; j < n; j++) {
              const c = chunk[j]!;
              if (inString) {
                if (escaped) escaped = false;
                else if (c === BACKSLASH) escaped = true;
                else if (c === QUOTE) {
                  inString = false;
                  if (depth === 0) {
                    j++;
                    done = true;
                    break;
                  }
                }
              } else if (c === QUOTE) inString = true;
              else if (c === LBRACE || c === LBRACKET) depth++;
              else if (c === RBRACE || c === RBRACKET) {
                depth--;
                if (depth <= 0) {
                  j++;
                  done = true;
                  break;
                }
              }
            }
            this.depth = depth;
            this.inString = inString;
            this.escaped = escaped;
          }
          i = j;
          if (done) this.finishValue(chunk, valueStart, j, out);
          break;
        }
        case State.AfterElement:
          if (isWhitespace(b)) i++;
          else if (b === COMMA) {
            this.state = State.ElementExpected;
            i++;
          } else if (b === RBRACKET) {
            this.state = State.Done;
            i++;
          } else this.fail("expected ',' or ']' after an array element", i);
          break;
        case State.Done:
          if (isWhitespace(b)) i++;
          else this.fail(this.mode === "array" ? "unexpected data after the end of the array" : "unexpected data after the value", i);
          break;
      }
    }
    if (this.state === State.InValue) this.carry(chunk, valueStart);
    this.lineAt(n);
    this.consumed += n;
    this.chunk = new Uint8Array(0);
    this.counted = 0;
  }

  /** The line of the current chunk's byte `i`: line breaks are counted once, natively, as positions move forward. */
  private lineAt(i: number): number {
    const chunk = this.chunk;
    while (this.counted < i) {
      const k = chunk.indexOf(LF, this.counted);
      if (k === -1 || k >= i) {
        this.counted = i;
        break;
      }
      this.line++;
      this.counted = k + 1;
    }
    return this.line;
  }

  /** Declares the end of input; throws when the document is incomplete. */
  end(out: ScanItem[]): void {
    if (this.state === State.InValue) {
      if (!this.scalar) {
        this.fail(this.inString ? "unterminated string" : "unexpected end of input inside a value", 0);
      }
      this.finishValue(new Uint8Array(0), 0, 0, out);
    }
    switch (this.state) {
      case State.Bom:
      case State.Start:
        // An empty file is not JSON: most likely the wrong file, or a cut upload. No rows is `[]`.
        if (this.mode === "value" || this.bomMatched > 0) this.fail("no JSON value in the input", 0);
        throw new FormatError("the file is empty: a JSON file holds an array of objects ([] for none)", { line: 1, offset: 0 });
      case State.ArrayOpen:
      case State.ElementExpected:
      case State.AfterElement:
        this.fail("unexpected end of input: the array is not closed", 0);
        return;
      default:
        return;
    }
  }

  private beginValue(b: number, i: number): void {
    if (b === RBRACE || b === COLON) this.fail(`unexpected '${String.fromCharCode(b)}'`, i);
    this.valueLine = this.lineAt(i);
    this.state = State.InValue;
    this.valueOffset = this.consumed + i;
    this.valueSize = 0;
    this.pieces = [];
    this.oversize = false;
    this.inString = b === QUOTE;
    this.escaped = false;
    this.scalar = !(b === QUOTE || b === LBRACE || b === LBRACKET);
    this.depth = b === LBRACE || b === LBRACKET ? 1 : 0;
  }

  /** Keeps the unfinished value's bytes from this chunk, unless that would pass the limit. */
  private carry(chunk: Uint8Array, from: number): void {
    const size = this.valueSize + (chunk.length - from);
    if (!this.oversize && size > this.maxElementBytes) {
      this.oversize = true;
      this.pieces = [];
    }
    // Copied: the producer may reuse its chunk after we return.
    if (!this.oversize) this.pieces.push(chunk.slice(from));
    this.valueSize = size;
  }

  private finishValue(chunk: Uint8Array, from: number, to: number, out: ScanItem[]): void {
    this.state = this.mode === "array" ? State.AfterElement : State.Done;
    const index = this.index++;
    const size = this.valueSize + (to - from);
    if (this.oversize || size > this.maxElementBytes) {
      out.push({ kind: "oversize", index, offset: this.valueOffset, line: this.valueLine, size });
    } else {
      const tail = chunk.subarray(from, to);
      const bytes = this.pieces.length === 0 ? tail : Buffer.concat([...this.pieces, tail]);
      out.push({ kind: "value", index, offset: this.valueOffset, line: this.valueLine, bytes });
    }
    this.pieces = [];
  }

  private fail(reason: string, i: number): never {
    const line = this.chunk.length > 0 ? this.lineAt(i) : this.state === State.InValue ? this.valueLine : this.line;
    throw new FormatError(reason, { row: this.index + 1, line, offset: this.consumed + i });
  }
}
