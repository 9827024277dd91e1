/**
 * Text encodings for text formats: their names, byte order marks, and
 * text → bytes on write. Reading (bytes → text, with detection) is in
 * `text-decoding.ts`.
 */
import { z } from "zod";

/**
 * Encodings a file can be written in and declared in on read. `windows-1252`
 * is what Excel and most Windows tools write as "ANSI" in the West; `latin1`
 * is ISO-8859-1 proper (every byte is the code point of the same number).
 */
export const TEXT_ENCODINGS = ["utf-8", "utf-16le", "utf-16be", "latin1", "windows-1252"] as const;
export type TextEncodingName = (typeof TEXT_ENCODINGS)[number];
export const textEncodingSchema = z.enum(TEXT_ENCODINGS);

/**
 * What a reader may be told: a declared encoding, or `auto` (decode what is
 * not UTF-8 as a detector names it). Not being told is a third case: BOM,
 * UTF-16 and valid UTF-8 are recognised, anything else is refused.
 */
export const READ_ENCODINGS = [...TEXT_ENCODINGS, "auto"] as const;
export type ReadEncodingName = (typeof READ_ENCODINGS)[number];
export const readEncodingSchema = z.enum(READ_ENCODINGS);

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

/** Bytes of the BOM for an encoding (the single-byte ones have none). */
export function bomBytes(encoding: TextEncodingName): Uint8Array {
  return Uint8Array.from(BOMS.find((b) => b.encoding === encoding)?.bytes ?? []);
}

/** windows-1252's bytes 0x80–0x9F (WHATWG index); the five it leaves undefined map to the C1 control of the same number. */
const CP1252_HIGH = "€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ";
const CP1252_BYTE = new Map<number, number>([...CP1252_HIGH].map((ch, i) => [ch.charCodeAt(0), 0x80 + i]));

/**
 * windows-1252 bytes as text. Written out because Node's TextDecoder decodes
 * the "windows-1252" label as ISO-8859-1 (bytes 0x80–0x9F come out as C1
 * controls instead of € ’ – …), which would change exactly the characters
 * Excel files carry.
 */
export function decodeWindows1252(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  return /[\u0080-\u009f]/.test(text) ? text.replace(/[\u0080-\u009f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!) : text;
}

/** Index of the first character `encoding` cannot represent, or -1. */
export function unencodableIndex(text: string, encoding: TextEncodingName): number {
  if (encoding === "latin1") return text.search(/[^\u0000-\u00ff]/);
  if (encoding === "windows-1252") {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80 && (c < 0xa0 || c > 0xff) && !CP1252_BYTE.has(c)) return i;
    }
  }
  return -1;
}

/** Encodes text; the caller has checked {@link unencodableIndex} for the single-byte encodings. */
export function encodeText(text: string, encoding: TextEncodingName): Uint8Array {
  switch (encoding) {
    case "utf-8":
      return Buffer.from(text, "utf8");
    case "latin1":
      return Buffer.from(text, "latin1");
    case "windows-1252": {
      const out = Buffer.from(text, "latin1");
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0x80 && c < 0xa0)
          out[i] = c; // the five undefined bytes round-trip as their C1 controls
        else if (c > 0xff) out[i] = CP1252_BYTE.get(c) ?? 0x3f;
      }
      return out;
    }
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
