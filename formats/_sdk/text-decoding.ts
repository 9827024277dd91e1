/**
 * Bytes → text for text formats, streaming, and never lossy.
 *
 * Chunks arrive cut anywhere, including inside a multibyte character, so
 * decoding keeps state between chunks. A byte order mark says more about a
 * file than any option a user picked, so a BOM overrides the declared
 * encoding and is never part of the text.
 *
 * Bytes that are not valid in the encoding are never replaced with U+FFFD
 * (which would import a Latin-1 "©" as "�" and call the job a success):
 *  - declared encoding (`utf-8`, `utf-16le`, `utf-16be`): invalid bytes are a
 *    {@link FormatError} at their line and byte offset; `latin1` and
 *    `windows-1252` decode every byte;
 *  - nothing declared: a BOM, else UTF-16 without a BOM (recognised by its
 *    zero bytes), else UTF-8 — and bytes that are not valid UTF-8 are refused
 *    at their line and byte offset, naming the encoding a detector (chardet)
 *    takes them for, so the user can declare it;
 *  - `auto`: the same, except that when the text before the first invalid
 *    byte was plain ASCII (which every candidate encoding reads alike), the
 *    rest is decoded as the detector says and the guess and its confidence are
 *    reported; a file that mixes valid UTF-8 with other bytes is still refused.
 */
import { isAscii, isUtf8 } from "node:buffer";
import chardet from "chardet";
import { FormatError } from "./format-error.js";
import type { ReadEncoding } from "./plugin.js";
import { concat, decodeWindows1252, detectBom, type ReadEncodingName } from "./text-encoding.js";

/** Bytes held back at the start: enough to see a BOM and the zero bytes of UTF-16. */
const HEAD_BYTES = 512;
/** Bytes the detector looks at (from the first invalid byte on). */
const SAMPLE_BYTES = 16 * 1024;

interface Decoder {
  /**
   * Decodes `bytes`; on invalid input gives instead the bytes it was looking
   * at (`bytes` with what it carried from the previous call in front: `carried`
   * of them) and the index of the first bad one in those.
   */
  decode(bytes: Uint8Array, end: boolean): string | { invalidAt: number; bytes: Uint8Array; carried: number };
}

/** Decoders whose every byte sequence is valid: nothing to check, no line to count. */
const TOTAL = new Set(["latin1", "windows-1252"]);

/**
 * Decodes a byte stream to text chunks (one string per input chunk, never one
 * per character). `onEncoding` is told which encoding is used before the
 * first text, and again if `auto` switches to a detected one.
 */
export async function* decodeText(input: AsyncIterable<Uint8Array>, encoding: ReadEncodingName | undefined, onEncoding?: (encoding: ReadEncoding) => void): AsyncGenerator<string> {
  let head: Uint8Array | undefined = new Uint8Array(0);
  let decoder: Decoder | undefined;
  let current: ReadEncoding | undefined;
  /** Bytes before the current chunk (BOM included), and the line the current chunk starts on. */
  let offset = 0;
  let line = 1;
  let asciiSoFar = true;
  const iterator = input[Symbol.asyncIterator]();
  /** Input read ahead for the detector, consumed before the iterator again. */
  const pending: Uint8Array[] = [];

  const start = (bytes: Uint8Array, end: boolean): Uint8Array => {
    const bom = detectBom(bytes);
    if (bom) {
      current = { name: bom.encoding, source: "bom" };
      offset += bom.length;
      bytes = bytes.subarray(bom.length);
    } else if (encoding !== undefined && encoding !== "auto") {
      current = { name: encoding, source: "option" };
    } else {
      const utf16 = sniffUtf16(bytes, end);
      current = utf16 ? { name: utf16, source: "detected" } : { name: "utf-8", source: "default" };
    }
    decoder = decoderFor(current.name);
    onEncoding?.(current);
    return bytes;
  };

  /** Text of `bytes` (starting at byte `base`, on line `lineBase`); switches to a detected encoding or throws at the first bad byte. */
  const text = async (input: Uint8Array, end: boolean, base: number, lineBase: number): Promise<string> => {
    const out = decoder!.decode(input, end);
    if (typeof out === "string") {
      if (asciiSoFar && !isAscii(input)) asciiSoFar = false;
      return out;
    }
    const { bytes, invalidAt, carried } = out;
    const good = bytes.subarray(0, invalidAt);
    // The bytes before the bad one, decoded on their own; if they do not decode alone (a unit begun in the previous
    // chunk), the stop keeps no text of this chunk rather than a wrong one.
    const decodedBefore = good.length > 0 ? decoderFor(current!.name).decode(good, true) : "";
    const before = typeof decodedBefore === "string" ? decodedBefore : "";
    const at = base - carried + invalidAt;
    const atLine = lineBase + countLines(before);
    if (!(asciiSoFar && isAscii(good))) throw new DecodeStop(before, notUtf(current!, bytes[invalidAt], atLine, at, undefined, encoding === "auto"));
    // Gather a sample for the detector from the bad byte on (bounded), keeping what it reads for decoding.
    let sample = bytes.subarray(invalidAt);
    let ended = end;
    while (sample.length < SAMPLE_BYTES && !ended) {
      const next = await iterator.next();
      if (next.done) ended = true;
      else {
        const copy = next.value.slice();
        pending.push(copy);
        sample = concat(sample, copy);
      }
    }
    const guess = detect(sample);
    if (encoding !== "auto" || !guess.decodable) throw new DecodeStop(before, notUtf(current!, bytes[invalidAt], atLine, at, guess));
    current = { name: guess.name, source: "detected", confidence: guess.confidence };
    decoder = decoderFor(guess.name);
    onEncoding?.(current);
    try {
      return before + (await text(bytes.subarray(invalidAt), end && pending.length === 0, at, atLine));
    } catch (err) {
      throw err instanceof DecodeStop ? new DecodeStop(before + err.before, err.error) : err;
    }
  };

  try {
    for (;;) {
      let chunk: Uint8Array;
      if (pending.length > 0) chunk = pending.shift()!;
      else {
        const next = await iterator.next();
        if (next.done) break;
        chunk = next.value;
      }
      let bytes = chunk;
      if (head !== undefined) {
        // Hold back the first bytes until a BOM and UTF-16 can be recognised, even from 1-byte chunks.
        head = concat(head, chunk.slice());
        if (head.length < HEAD_BYTES) continue;
        bytes = start(head, false);
        head = undefined;
      }
      const decoded = await text(bytes, false, offset, line);
      offset += bytes.length;
      if (!TOTAL.has(current!.name)) line += countLines(decoded);
      if (decoded.length > 0) yield decoded;
    }
    const bytes = head !== undefined ? start(head, true) : new Uint8Array(0);
    const tail = await text(bytes, true, offset, line);
    if (tail.length > 0) yield tail;
  } catch (err) {
    if (!(err instanceof DecodeStop)) throw err;
    // The text before the bad bytes is good: hand it over (its rows import), then stop there.
    if (err.before.length > 0) yield err.before;
    throw err.error;
  } finally {
    await iterator.return?.();
  }
}

/** The decoding stopped at bad bytes: the good text before them, and the error. */
class DecodeStop {
  constructor(
    readonly before: string,
    readonly error: FormatError,
  ) {}
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

/**
 * UTF-16 without a BOM: ASCII-range text has a zero byte in every other
 * position. The other position may hold a zero now and then — characters
 * such as 一 (U+4E00), 最 (U+6700) or Ā (U+0100) have one there — so a few
 * are allowed, against many more on the ASCII side.
 */
function sniffUtf16(head: Uint8Array, end: boolean): "utf-16le" | "utf-16be" | undefined {
  const pairs = Math.floor(Math.min(head.length, HEAD_BYTES) / 2);
  if (pairs < 2 || (!end && pairs < 8)) return undefined;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < pairs * 2; i += 2) {
    if (head[i] === 0) evenZeros++;
    if (head[i + 1] === 0) oddZeros++;
  }
  if (oddZeros >= pairs * 0.4 && evenZeros * 8 <= oddZeros) return "utf-16le";
  if (evenZeros >= pairs * 0.4 && oddZeros * 8 <= evenZeros) return "utf-16be";
  return undefined;
}

interface Guess {
  /** What we decode it as (ISO-8859-1 becomes windows-1252, as in browsers: the C1 controls it has there are never meant). */
  name: string;
  /** What the detector said. */
  detected: string;
  confidence: number;
  decodable: boolean;
}

/**
 * The detector's best guess for `sample` (bytes from the first one that is
 * not UTF-8 on). chardet is well kept and covers the encodings spreadsheet
 * tools write; its guesses that cannot apply are dropped (UTF-16/32 without a
 * zero byte, ASCII and UTF-8 for bytes that are not). With nothing left — a
 * few bytes are too little to go on — the guess is windows-1252, the 8-bit
 * encoding Western Windows tools write (and what browsers assume), with a low
 * confidence, reported as such.
 */
export function detect(sample: Uint8Array): Guess {
  const zeros = sample.includes(0);
  const best = chardet.analyse(sample).find((m) => m.confidence > 0 && !/^(ascii|utf-8)$/i.test(m.name) && (zeros || !/^utf-(16|32)/i.test(m.name)));
  if (!best) return { name: "windows-1252", detected: "no clear match", confidence: 10, decodable: true };
  const detected = best.name;
  const name = /^ISO-8859-1$/i.test(detected) ? "windows-1252" : detected.toLowerCase();
  let decodable = true;
  try {
    new TextDecoder(name);
  } catch {
    decodable = false;
  }
  return { name, detected, confidence: best.confidence, decodable };
}

/** A byte as people read it in an error: `0xE9`. */
export function byteHex(byte: number): string {
  return `0x${byte.toString(16).toUpperCase().padStart(2, "0")}`;
}

/**
 * Why bytes of a UTF-8-only format (JSON, NDJSON: RFC 8259) are refused, and
 * what they look like instead, so the user can save the file as UTF-8.
 */
export function notUtf8(bytes: Uint8Array): string {
  const at = invalidUtf8At(bytes);
  const guess = detect(bytes.subarray(at));
  return `invalid UTF-8 (byte ${byteHex(bytes[at] ?? 0)}): JSON text must be UTF-8; this looks like ${guess.name} (confidence ${guess.confidence}%), so save the file as UTF-8`;
}

function notUtf(encoding: ReadEncoding, byte: number | undefined, line: number, offset: number, guess: Guess | undefined, mixed = false): FormatError {
  const hex = byte === undefined ? "" : ` (byte ${byteHex(byte)})`;
  const declared = encoding.source === "option" || encoding.source === "bom" ? ` declared as ${encoding.name}${encoding.source === "bom" ? " by its byte order mark" : ""}` : "";
  let reason = `the file is not valid ${encoding.name.toUpperCase()}${declared}: invalid bytes at line ${line}, byte ${offset}${hex}`;
  if (mixed) reason += "; the text before them is UTF-8, so the file mixes encodings and cannot be decoded as one";
  else if (guess?.decodable) {
    reason += `; it looks like ${guess.name} (detector: ${guess.detected}, confidence ${guess.confidence}%): send encoding "${guess.name}" (or "latin1", "windows-1252", …), or encoding "auto" to decode it as detected`;
  } else if (guess !== undefined) reason += `; a detector takes it for ${guess.detected}, which cannot be decoded here`;
  else reason += "; send its encoding (e.g. windows-1252)";
  return new FormatError(reason, { line, offset });
}

function decoderFor(name: string): Decoder {
  if (name === "latin1") {
    // WHATWG's "latin1" label means windows-1252; real ISO-8859-1 maps each byte to the same code point.
    return { decode: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1") };
  }
  if (name === "windows-1252") return { decode: (bytes) => decodeWindows1252(bytes) };
  if (name === "utf-8") return utf8Decoder();
  const d = new TextDecoder(name, { fatal: true, ignoreBOM: true });
  const unit = name.startsWith("utf-16") ? 2 : 1;
  return {
    decode(bytes, end) {
      try {
        return d.decode(bytes, { stream: !end });
      } catch {
        // Locate the first bad byte: decode growing prefixes with a fresh decoder (only on failure).
        // What the stateful decoder held from the previous chunk is not known here: positions are within this chunk.
        return { invalidAt: firstUndecodable(name, bytes, unit), bytes, carried: 0 };
      }
    },
  };
}

/** UTF-8 with exact error positions: complete characters are checked natively (isUtf8), a cut one is carried. */
function utf8Decoder(): Decoder {
  let carry = new Uint8Array(0);
  const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  return {
    decode(input, end) {
      const carried = carry.length;
      const bytes = carried > 0 ? concat(carry, input) : input;
      const cut = end ? bytes.length : completeLength(bytes);
      const whole = bytes.subarray(0, cut);
      if (!isUtf8(whole)) {
        carry = new Uint8Array(0);
        return { invalidAt: invalidUtf8At(whole), bytes, carried };
      }
      carry = cut < bytes.length ? bytes.slice(cut) : new Uint8Array(0);
      return whole.length === 0 ? "" : fatal.decode(whole);
    },
  };
}

/** Length of `bytes` without a trailing, possibly incomplete, multibyte sequence. */
function completeLength(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let k = 1; k <= Math.min(3, n); k++) {
    const b = bytes[n - k]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: look further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > k ? n - k : n;
  }
  return n;
}

/** Index of the first byte that does not start or continue a valid UTF-8 sequence. */
export function invalidUtf8At(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let need: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return bytes.length;
}

/** Index of the first byte `name` cannot decode in `bytes` (only called after a failure, so it may be slow). */
function firstUndecodable(name: string, bytes: Uint8Array, unit: number): number {
  const bigEndian = name === "utf-16be";
  const unitAt = (i: number) => (bigEndian ? (bytes[i]! << 8) | bytes[i + 1]! : bytes[i]! | (bytes[i + 1]! << 8));
  const highSurrogate = (i: number) => unit === 2 && i >= 0 && unitAt(i) >= 0xd800 && unitAt(i) <= 0xdbff;
  for (let length = unit; length <= bytes.length; length += unit) {
    try {
      new TextDecoder(name, { fatal: true }).decode(bytes.subarray(0, length), { stream: true });
    } catch {
      // UTF-16 fails one unit late on a high surrogate without its low half: point at the high one.
      if (highSurrogate(length - 4)) return length - 4;
      return length - unit;
    }
  }
  // Every prefix decodes, so the end is what fails: a last unit cut short (an odd byte of UTF-16), or a high
  // surrogate whose low half never comes.
  const whole = bytes.length - (bytes.length % unit);
  if (whole < bytes.length) return whole;
  if (highSurrogate(bytes.length - 2)) return bytes.length - 2;
  return bytes.length;
}
