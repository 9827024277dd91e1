/**
 * Finds rows of one file that share a natural key (or a unique field such as
 * a username) with an earlier row, so the later row is reported as
 * `duplicate_in_file` instead of silently overwriting the first one in upsert
 * mode, or failing confusingly in another batch.
 *
 * Memory: the file is never kept, and neither are its keys: each distinct key
 * (per key space) is a 96-bit SHA-1 prefix and the row that first used it, 16
 * bytes in open-addressing tables of typed arrays — 21 MB for a million-row
 * sessions file (the `Map<string, number>` before them held ~60 bytes per
 * key, and as V8 heap it also grew the heap's headroom). The first 64 bits
 * place a key (its table and its slot), the other 32 check that a key found
 * there is the same one: two different keys are taken for one only when all
 * 96 bits agree, which among a million keys has a probability of about 10^-17.
 *
 * The keys are spread over {@link SEGMENTS} tables that each grow on their own
 * by a quarter when 9/10 full, not one table that doubles when 3/4 full: a
 * doubling kept the old and the new table alive at once (50 MB for a moment at
 * a million keys, where the table then held 33.5 MB), which made the transfer
 * service of a 1M-row import peak at 1.30× its peak at 100k rows (bench
 * section `memory`, 2 December 2026; goal: ≤ 1.2×; 1.18× since). Now a growth
 * holds one small table twice, and the tables are 72–90 % full, 18–22 bytes a
 * key. Linear probing at that fill costs a few dozen comparisons of a miss,
 * next to the SHA-1 (~1 µs with a Buffer for each digest, 0.35 µs as a latin1
 * string since 3 December 2026, shared/hashing/sha1-words.ts;
 * `bench/checks/in-file-keys-memory.ts` measures both: 2.1–2.6 s a million
 * keys, before that change).
 */
import { naturalKeyString, type EntitySpec } from "../../domain/index.js";
import { digestWord, sha1Digest } from "../../shared/hashing/sha1-words.js";

export interface DuplicateInFile {
  /** The key field(s) at fault, comma-separated for compound keys. */
  field: string;
  /** The row that first used the key. */
  firstRow: number;
}

/** Words per slot: hash hi, hash lo, check, row + 1 (0 = empty). */
const WORDS = 4;
/** Tables the keys are spread over, by the top bits of the hash's first word. */
const SEGMENT_BITS = 6;
const SEGMENTS = 1 << SEGMENT_BITS;
const INITIAL_SLOTS = 16;
/** A table grows when it would be fuller than this… */
const MAX_FILL = 0.9;
/** …by this factor (at least one slot). */
const GROWTH = 1.25;
/** Rows are held as 32-bit numbers; a file with more rows is refused rather than mis-numbered. */
const MAX_ROW = 0xffff_fffe;

/**
 * One table of 96-bit key hashes with the row of each, in one Uint32Array.
 * A key's home slot is its `lo` word scaled to the table's capacity (so the
 * capacity need not be a power of two), and a taken slot passes the key on to
 * the next one (linear probing).
 */
class Segment {
  private capacity = INITIAL_SLOTS;
  private slots = new Uint32Array(INITIAL_SLOTS * WORDS);
  size = 0;

  get bytes(): number {
    return this.slots.byteLength;
  }

  /** The row the hash was first claimed by, or undefined. */
  rowOf(hi: number, lo: number, check: number): number | undefined {
    const stored = this.slots[this.find(hi, lo, check) * WORDS + 3]!;
    return stored === 0 ? undefined : stored - 1;
  }

  add(hi: number, lo: number, check: number, row: number): void {
    if (this.size + 1 > this.capacity * MAX_FILL) this.grow();
    const slot = this.find(hi, lo, check);
    if (this.slots[slot * WORDS + 3] !== 0) return;
    this.put(slot, hi, lo, check, row + 1);
    this.size++;
  }

  /** The slot holding this hash, or the empty slot where it goes. */
  private find(hi: number, lo: number, check: number): number {
    const capacity = this.capacity;
    const slots = this.slots;
    // `lo` is unsigned (digestWord); the product stays below 2^53, so this is exact.
    let slot = Math.floor((lo * capacity) / 4_294_967_296);
    for (;;) {
      const at = slot * WORDS;
      if (slots[at + 3] === 0 || (slots[at] === hi && slots[at + 1] === lo && slots[at + 2] === check)) return slot;
      slot = slot + 1 === capacity ? 0 : slot + 1;
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
    this.capacity = Math.max(this.capacity + 1, Math.ceil(this.capacity * GROWTH));
    this.slots = new Uint32Array(this.capacity * WORDS);
    for (let at = 0; at < old.length; at += WORDS) {
      if (old[at + 3] === 0) continue;
      this.put(this.find(old[at]!, old[at + 1]!, old[at + 2]!), old[at]!, old[at + 1]!, old[at + 2]!, old[at + 3]!);
    }
  }
}

/** The key hashes of one file, spread over {@link SEGMENTS} segments by the top bits of `hi`. */
class KeyTable {
  private readonly segments = Array.from({ length: SEGMENTS }, () => new Segment());

  get size(): number {
    return this.segments.reduce((sum, segment) => sum + segment.size, 0);
  }

  get bytes(): number {
    return this.segments.reduce((sum, segment) => sum + segment.bytes, 0);
  }

  rowOf(hi: number, lo: number, check: number): number | undefined {
    return this.segments[hi >>> (32 - SEGMENT_BITS)]!.rowOf(hi, lo, check);
  }

  add(hi: number, lo: number, check: number, row: number): void {
    this.segments[hi >>> (32 - SEGMENT_BITS)]!.add(hi, lo, check, row);
  }
}

export class InFileKeys {
  private readonly table = new KeyTable();

  /** The key's fields as a duplicate names them (`sessionId`; `userId,courseId`). */
  private readonly keyFields: string;

  constructor(private readonly spec: EntitySpec) {
    this.keyFields = spec.keyFields.join(",");
  }

  /** Number of keys remembered (for tests and memory reports). */
  get size(): number {
    return this.table.size;
  }

  /** Bytes the tables hold now (for tests and memory reports). */
  get bytes(): number {
    return this.table.bytes;
  }

  /**
   * Registers the record's keys for `row`, or returns the first clash. A row
   * the core rejects claims none of its keys; a row the records service
   * rejects later (a missing reference) still holds them, so a later row with
   * the same key is reported as a duplicate of it.
   */
  claim(record: Record<string, unknown>, row: number): DuplicateInFile | undefined {
    if (!Number.isInteger(row) || row < 0 || row > MAX_ROW) throw new RangeError(`row ${row} is beyond what the in-file duplicate check can number (0 to ${MAX_ROW})`);
    const key = naturalKeyString(this.spec, record); // an append-only entry has one only when it carries its id (a restore)
    const spaces: [string, string][] = [];
    if (key !== undefined) spaces.push([this.keyFields, key]);
    for (const field of this.spec.uniqueFields) {
      const value = record[field];
      if (typeof value === "string" && value !== "") spaces.push([field, value]);
    }
    const digests: string[] = [];
    for (const [field, value] of spaces) {
      const digest = sha1Digest(`${field}\u0000${value}`);
      const firstRow = this.table.rowOf(digestWord(digest, 0), digestWord(digest, 1), digestWord(digest, 2));
      if (firstRow !== undefined) return { field, firstRow };
      digests.push(digest);
    }
    for (const digest of digests) this.table.add(digestWord(digest, 0), digestWord(digest, 1), digestWord(digest, 2), row);
    return undefined;
  }
}
