/**
 * Finds rows of one file that share a natural key (or a unique field such as
 * a username) with an earlier row, so the later row is reported as
 * `duplicate_in_file` instead of silently overwriting the first one in upsert
 * mode, or failing confusingly in another batch.
 *
 * Memory: the file is never kept, and neither are its keys: each distinct key
 * (per key space) is a 96-bit SHA-1 prefix and the row that first used it, 16
 * bytes in an open-addressing table of typed arrays kept at most 3/4 full —
 * 16 to 43 bytes per key, 32 MB for a million-row sessions file (the
 * `Map<string, number>` this replaces held ~60 bytes per key, and as V8 heap
 * it also grew the heap's headroom). The first 64 bits place a key in the
 * table, the other 32 check that a key found there is the same one: two
 * different keys are taken for one only when all 96 bits agree, which among
 * a million keys has a probability of about 10^-17.
 */
import { hash } from "node:crypto";
import { keyString, naturalKeyOf, type EntitySpec } from "../../domain/index.js";

export interface DuplicateInFile {
  /** The key field(s) at fault, comma-separated for compound keys. */
  field: string;
  /** The row that first used the key. */
  firstRow: number;
}

/** Words per slot: hash hi, hash lo, check, row + 1 (0 = empty). */
const WORDS = 4;
const INITIAL_CAPACITY = 1 << 12;
/** Rows are held as 32-bit numbers; a file with more rows is refused rather than mis-numbered. */
const MAX_ROW = 0xffff_fffe;

/** A set of 96-bit key hashes with the row of each, in one Uint32Array. */
class KeyTable {
  private capacity = INITIAL_CAPACITY;
  private slots = new Uint32Array(INITIAL_CAPACITY * WORDS);
  size = 0;

  /** The row the hash was first claimed by, or undefined. */
  rowOf(hi: number, lo: number, check: number): number | undefined {
    const slot = this.find(hi, lo, check);
    const stored = this.slots[slot * WORDS + 3]!;
    return stored === 0 ? undefined : stored - 1;
  }

  add(hi: number, lo: number, check: number, row: number): void {
    if ((this.size + 1) * 4 > this.capacity * 3) this.grow();
    const slot = this.find(hi, lo, check);
    if (this.slots[slot * WORDS + 3] !== 0) return;
    this.put(slot, hi, lo, check, row + 1);
    this.size++;
  }

  /** The slot holding this hash, or the empty slot where it goes (linear probing). */
  private find(hi: number, lo: number, check: number): number {
    const mask = this.capacity - 1;
    const slots = this.slots;
    let slot = lo & mask;
    for (;;) {
      const at = slot * WORDS;
      if (slots[at + 3] === 0 || (slots[at] === hi && slots[at + 1] === lo && slots[at + 2] === check)) return slot;
      slot = (slot + 1) & mask;
    }
  }

  private put(slot: number, hi: number, lo: number, check: number, rowPlusOne: number): void {
    const at = slot * WORDS;
    this.slots[at] = hi;
    this.slots[at + 1] = lo;
    this.slots[at + 2] = check;
    this.slots[at + 3] = rowPlusOne;
  }

  private grow(): void {
    const old = this.slots;
    this.capacity *= 2;
    this.slots = new Uint32Array(this.capacity * WORDS);
    for (let at = 0; at < old.length; at += WORDS) {
      if (old[at + 3] === 0) continue;
      this.put(this.find(old[at]!, old[at + 1]!, old[at + 2]!), old[at]!, old[at + 1]!, old[at + 2]!, old[at + 3]!);
    }
  }
}

export class InFileKeys {
  private readonly table = new KeyTable();

  constructor(private readonly spec: EntitySpec) {}

  /** Number of keys remembered (for tests and memory reports). */
  get size(): number {
    return this.table.size;
  }

  /**
   * Registers the record's keys for `row`, or returns the first clash. A row
   * the core rejects claims none of its keys; a row the records service
   * rejects later (a missing reference) still holds them, so a later row with
   * the same key is reported as a duplicate of it.
   */
  claim(record: Record<string, unknown>, row: number): DuplicateInFile | undefined {
    if (!Number.isInteger(row) || row < 0 || row > MAX_ROW) throw new RangeError(`row ${row} is beyond what the in-file duplicate check can number (0 to ${MAX_ROW})`);
    const key = naturalKeyOf(this.spec, record); // an append-only entry has one only when it carries its id (a restore)
    const spaces: [string, string][] = [];
    if (key !== undefined) spaces.push([this.spec.keyFields.join(","), keyString(key)]);
    for (const field of this.spec.uniqueFields) {
      const value = record[field];
      if (typeof value === "string" && value !== "") spaces.push([field, value]);
    }
    const hashes: Buffer[] = [];
    for (const [field, value] of spaces) {
      const digest = hash("sha1", `${field}\u0000${value}`, "buffer");
      const firstRow = this.table.rowOf(digest.readUInt32LE(0), digest.readUInt32LE(4), digest.readUInt32LE(8));
      if (firstRow !== undefined) return { field, firstRow };
      hashes.push(digest);
    }
    for (const digest of hashes) this.table.add(digest.readUInt32LE(0), digest.readUInt32LE(4), digest.readUInt32LE(8), row);
    return undefined;
  }
}
