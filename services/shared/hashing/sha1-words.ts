/**
 * SHA-1 digests read as 32-bit words, for the tables that keep hashes of keys
 * and records in typed arrays (the transfer service's in-file duplicate check,
 * the records service's stored fingerprints).
 *
 * Why a latin1 string and not a Buffer: Node's `hash(…, "buffer")` gives each
 * digest an ArrayBuffer of its own, and took 1.74 µs a hash here against
 * 0.35 µs for the same digest as a 20-character latin1 string (a million
 * session keys, 3 December 2026) — a digest or two for every imported row, and
 * two for every stored record a re-import reads.
 */
import { hash } from "node:crypto";

/** The SHA-1 of `text` (UTF-8) as 20 characters, one for each byte. */
export function sha1Digest(text: string): string {
  return hash("sha1", text, "binary"); // "binary" is latin1: one character a byte
}

/** The digest's `index`-th 32-bit word, big-endian, unsigned (what `readUInt32BE(index * 4)` reads of its bytes). */
export function digestWord(digest: string, index: number): number {
  const at = index * 4;
  return digest.charCodeAt(at) * 0x1000000 + ((digest.charCodeAt(at + 1) << 16) | (digest.charCodeAt(at + 2) << 8) | digest.charCodeAt(at + 3));
}
