import { hash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { digestWord, sha1Digest } from "../../services/shared/hashing/sha1-words.js";

describe("SHA-1 digests as words", () => {
  it("reads each word as the digest's bytes read big-endian, for any text (UTF-8, astral, lone surrogates)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.string({ unit: "binary" })), (text) => {
        const bytes = hash("sha1", text, "buffer");
        const digest = sha1Digest(text);
        expect(digest).toHaveLength(20);
        for (let i = 0; i < 5; i++) expect(digestWord(digest, i)).toBe(bytes.readUInt32BE(i * 4));
      }),
      { numRuns: 2000 },
    );
  });

  it("gives words at and above 2^31 as unsigned numbers", () => {
    const high = Array.from({ length: 50 }, (_, i) => `k${i}`).find((t) => hash("sha1", t, "buffer")[0]! >= 0x80)!;
    expect(digestWord(sha1Digest(high), 0)).toBeGreaterThanOrEqual(2 ** 31);
    expect(digestWord(sha1Digest(high), 0)).toBe(hash("sha1", high, "buffer").readUInt32BE(0));
  });
});
