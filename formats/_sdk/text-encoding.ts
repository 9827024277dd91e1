/**
 * Bytes ⇄ text for text formats, streaming.
 *
 * Chunks arrive cut anywhere, including inside a multibyte character, so
 * decoding keeps state between chunks (`TextDecoder` with `stream: true`). A
 * byte order mark says more about a file than any option a user picked, so on
 * read a BOM overrides the configured encoding and is never part of the text.
 */
import { z } from "zod";

export const TEXT_ENCODINGS = ["utf-8", "utf-16le", "utf-16be", "latin1"] as const;
export type TextEncodingName = (typeof TEXT_ENCODINGS)[number];
export const textEncodingSchema = z.enum(TEXT_ENCODINGS);

const BOMS: { encoding: TextEncodingName; bytes: number[] }[] = [
  { encoding: "utf-8", bytes: [0xef, 0xbb, 0xbf] },
  { encoding: "utf-16le", bytes: [0xff, 0xfe] },
  { encoding: "utf-16be", bytes: [0xfe, 0xff] },
];

/** The encoding announced by a BOM at the start of `head`, if any. `head` needs 3 bytes unless the input is shorter. */
export function detectBom(head: Uint8Array): { encoding: TextEncodingName; length: number } | undefined {
  for (const bom of BOMS) {
    if (head.length >= bom.bytes.length && bom.bytes.every((b, i) => head[i] === b)) {
      return { encoding: bom.encoding, length: bom.bytes.length };
    }
  }
  return undefined;
}

/** Bytes of the BOM for an encoding (latin1 has none). */
export function bomBytes(encoding: TextEncodingName): Uint8Array {
  return Uint8Array.from(BOMS.find((b) => b.encoding === encoding)?.bytes ?? []);
}

/**
 * Decodes a byte stream to text chunks. Invalid sequences become U+FFFD, as
 * every spreadsheet does; the text is still imported and the user sees where.
 * Yields one string per input chunk (never one per character).
 */
export async function* decodeText(input: AsyncIterable<Uint8Array>, encoding: TextEncodingName): AsyncGenerator<string> {
  let head: Uint8Array | undefined = new Uint8Array(0);
  let decode: ((bytes: Uint8Array, end: boolean) => string) | undefined;
  for await (const chunk of input) {
    let bytes = chunk;
    if (head !== undefined) {
      // Hold back the first bytes until a BOM can be recognised, even from 1-byte chunks.
      head = concat(head, chunk);
      if (head.length < 3) continue;
      const bom = detectBom(head);
      decode = decoder(bom?.encoding ?? encoding);
      bytes = head.subarray(bom?.length ?? 0);
      head = undefined;
    }
    const text = decode!(bytes, false);
    if (text.length > 0) yield text;
  }
  if (head !== undefined) {
    const bom = detectBom(head);
    decode = decoder(bom?.encoding ?? encoding);
    const text = decode(head.subarray(bom?.length ?? 0), true);
    if (text.length > 0) yield text;
    return;
  }
  const tail = decode!(new Uint8Array(0), true);
  if (tail.length > 0) yield tail;
}

function decoder(encoding: TextEncodingName): (bytes: Uint8Array, end: boolean) => string {
  if (encoding === "latin1") {
    // WHATWG's "latin1" label means windows-1252; real ISO-8859-1 maps each byte to the same code point.
    return (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  }
  const d = new TextDecoder(encoding, { ignoreBOM: true });
  return (bytes, end) => d.decode(bytes, { stream: !end });
}

/** Index of the first character `encoding` cannot represent, or -1. */
export function unencodableIndex(text: string, encoding: TextEncodingName): number {
  if (encoding !== "latin1") return -1;
  return text.search(/[^\u0000-\u00ff]/);
}

/** Encodes text; the caller has checked {@link unencodableIndex} for latin1. */
export function encodeText(text: string, encoding: TextEncodingName): Uint8Array {
  switch (encoding) {
    case "utf-8":
      return Buffer.from(text, "utf8");
    case "latin1":
      return Buffer.from(text, "latin1");
    case "utf-16le":
      return Buffer.from(text, "utf16le");
    case "utf-16be":
      return Buffer.from(text, "utf16le").swap16();
  }
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
