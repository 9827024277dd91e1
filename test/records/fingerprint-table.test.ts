/**
 * The stored fingerprints' table (services/records/store/fingerprint-table.ts):
 * what it answers for a key, and what a million records cost it.
 */
import { ObjectId } from "mongodb";
import { describe, expect, it } from "vitest";
import { FingerprintTable } from "../../services/records/store/fingerprint-table.js";
import type { Hash64 } from "../../services/records/store/record-fingerprint.js";

/** The i-th of a sequence of distinct, well-spread 64-bit keys. */
function key(i: number): Hash64 {
  return { hi: Math.imul(i, 0x9e3779b1) >>> 0, lo: (Math.imul(i ^ 0x5bd1e995, 0x85ebca6b) + i) >>> 0 };
}
const fingerprint = (i: number): Hash64 => ({ hi: i >>> 0, lo: (i * 7 + 1) >>> 0 });
/** An `_id` that says which record it is. */
const idOf = (i: number) => ObjectId.createFromTime(i);

describe("the stored fingerprints' table", () => {
  it("answers for every one of a million stored records, and holds them in under 40 MB", () => {
    const n = 1 << 20;
    const table = new FingerprintTable();
    for (let i = 0; i < n; i++) table.add(key(i), fingerprint(i), idOf(i));
    expect(table.count).toBe(n);
    // 29 bytes an entry and 4 a slot (2^21 slots): 37 MB. Kept in each slot, as before, the same took 57 MB.
    expect(table.bytes).toBeLessThan(40 * 1024 * 1024);
    for (let i = 0; i < n; i += 997) {
      expect(table.matches(key(i), fingerprint(i))).toBe(true);
      expect(table.matches(key(i), fingerprint(i + 1))).toBe(false);
      expect(table.idOf(key(i))?.equals(idOf(i))).toBe(true);
    }
    expect(table.has(key(n))).toBe(false);
    expect(table.idOf(key(n))).toBeUndefined();
  });

  it("makes a key unknown, without an _id, when a second stored record has the same 64-bit hash", () => {
    const table = new FingerprintTable();
    table.add(key(1), fingerprint(1), idOf(1));
    table.add(key(1), fingerprint(1), idOf(2));
    expect(table.has(key(1))).toBe(true);
    expect(table.matches(key(1), fingerprint(1))).toBe(false);
    expect(table.idOf(key(1))).toBeUndefined();
    expect(table.count).toBe(1);
  });

  it("takes what the stream wrote as the key's fingerprint and forgets its _id, and leaves out new keys past the limit", () => {
    const table = new FingerprintTable();
    table.add(key(1), fingerprint(1), idOf(1));
    table.set(key(1), fingerprint(9), 2);
    expect(table.matches(key(1), fingerprint(9))).toBe(true);
    expect(table.matches(key(1), fingerprint(1))).toBe(false);
    expect(table.idOf(key(1))).toBeUndefined();
    table.set(key(2), fingerprint(2), 2);
    table.set(key(3), fingerprint(3), 2);
    expect(table.has(key(2))).toBe(true);
    expect(table.has(key(3))).toBe(false);
    expect(table.count).toBe(2);
  });

  it("holds a record whose fingerprint is not known, and never says it is stored as it is", () => {
    const table = new FingerprintTable();
    table.add(key(1), undefined, idOf(1));
    expect(table.has(key(1))).toBe(true);
    expect(table.matches(key(1), fingerprint(1))).toBe(false);
    expect(table.idOf(key(1))?.equals(idOf(1))).toBe(true);
    table.set(key(1), undefined, 10);
    expect(table.matches(key(1), fingerprint(1))).toBe(false);
    expect(table.idOf(key(1))).toBeUndefined();
  });

  it("keeps answering while it grows, with keys that probe into each other's slots", () => {
    const table = new FingerprintTable();
    // Keys that all start at slot 0 of every index size: each probes past the others.
    const colliding = (i: number): Hash64 => ({ hi: 0, lo: i << 22 });
    for (let i = 0; i < 300; i++) {
      table.add(colliding(i), fingerprint(i), idOf(i));
      expect(table.matches(colliding(0), fingerprint(0))).toBe(true);
    }
    for (let i = 0; i < 300; i++) expect(table.idOf(colliding(i))?.equals(idOf(i))).toBe(true);
    expect(table.has(colliding(300))).toBe(false);
  });
});
