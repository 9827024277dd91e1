/**
 * The table behind stored-fingerprints.ts: per natural key (its 64-bit
 * hash), the fingerprint of the stored record and the `_id` it is stored
 * under, for up to a million records in a records service that must stay
 * under 200 MB while it holds them.
 *
 * Layout, and why: the records are entries kept densely, in chunks of
 * {@link CHUNK} (key hash and fingerprint as four 32-bit words, a state byte,
 * the 12-byte `_id`: 29 bytes an entry), and the hash table is only an index
 * of entry numbers (4 bytes a slot, at most half the slots used). A million
 * records take 37 MB: 29 MB of entries and an index of 2^21 slots (8 MB).
 * The table before it kept every field in each slot, so the empty half of
 * the slots cost as much as the used half: 57 MB for a million with the
 * `_id`s, and the records service peaked at 205 MB in a re-import of a
 * million stored sessions (3 December 2026, bench row ri-upsert-unchanged at
 * 1M; 176–178 MB before the `_id`s were kept). Entries never move: growing
 * rebuilds the index alone, and chunks are added, never copied, so no
 * growth holds two copies of the entries.
 */
import { ObjectId } from "mongodb";
import type { Hash64 } from "./record-fingerprint.js";

/** Entries a chunk holds (2^14: 464 KB of entries a chunk). */
export const CHUNK = 1 << 14;
const CHUNK_BITS = 14;

/** An entry's state: the fingerprint is known, or not (a value with no canonical form, or two stored keys with one 64-bit hash). */
const KNOWN = 1;
const UNKNOWN = 2;
/** Or'ed into the state: the entry holds the `_id` the pass read (none once the stream wrote the key). */
const HAS_ID = 4;

export class FingerprintTable {
  /** Slots of the index (a power of two, at least twice the entries). */
  private capacity = 1 << 12;
  private size = 0;
  /** Per slot: 1 + the number of the entry holding the slot's key (0: empty). */
  private index = new Uint32Array(this.capacity);
  /** Per entry, by chunk: key hash hi, key hash lo, fingerprint hi, fingerprint lo. */
  private readonly words: Uint32Array[] = [];
  /** Per entry, by chunk: {@link KNOWN} or {@link UNKNOWN}, with {@link HAS_ID}. */
  private readonly states: Uint8Array[] = [];
  /** Per entry, by chunk: the stored `_id` (12 bytes), where the state says so. */
  private readonly ids: Uint8Array[] = [];

  /** Keys held (stored, or written by the stream). */
  get count(): number {
    return this.size;
  }

  /** Bytes the table's arrays take (what a million records cost: see the module comment). */
  get bytes(): number {
    let total = this.index.byteLength;
    for (let c = 0; c < this.words.length; c++) total += this.words[c]!.byteLength + this.states[c]!.byteLength + this.ids[c]!.byteLength;
    return total;
  }

  /**
   * Sets the key's fingerprint after the stream wrote it: a key not held yet
   * is added only while the table holds fewer than `maxNew` keys (left out,
   * it is simply not known, and a later record with it is looked up). Its
   * `_id` is forgotten: an insert's is not known here, and a replacement's,
   * though kept, is looked up again.
   */
  set(key: Hash64, fingerprint: Hash64 | undefined, maxNew: number): void {
    let entry = this.entryOf(key);
    if (entry < 0) {
      if (this.size >= maxNew) return;
      entry = this.append(key);
    }
    this.put(entry, fingerprint, undefined);
  }

  /** Adds a stored record the pass read; a second stored key with the same 64-bit hash makes the entry unknown. */
  add(key: Hash64, fingerprint: Hash64 | undefined, id: ObjectId | undefined): void {
    const held = this.entryOf(key);
    if (held >= 0) {
      this.states[held >>> CHUNK_BITS]![held & (CHUNK - 1)] = UNKNOWN;
      return;
    }
    this.put(this.append(key), fingerprint, id);
  }

  /** The `_id` the pass read for the key, unless the key is unknown or the stream has written it since. */
  idOf(key: Hash64): ObjectId | undefined {
    const entry = this.entryOf(key);
    if (entry < 0) return undefined;
    const chunk = entry >>> CHUNK_BITS;
    const at = entry & (CHUNK - 1);
    if ((this.states[chunk]![at]! & HAS_ID) === 0) return undefined;
    return new ObjectId(Buffer.from(this.ids[chunk]!.subarray(at * 12, at * 12 + 12)));
  }

  /** True when the key is in the table, known or not. */
  has(key: Hash64): boolean {
    return this.entryOf(key) >= 0;
  }

  /** True when the key is stored with this fingerprint. */
  matches(key: Hash64, fingerprint: Hash64): boolean {
    const entry = this.entryOf(key);
    if (entry < 0) return false;
    const chunk = entry >>> CHUNK_BITS;
    const at = entry & (CHUNK - 1);
    const words = this.words[chunk]!;
    return (this.states[chunk]![at]! & 3) === KNOWN && words[at * 4 + 2] === fingerprint.hi && words[at * 4 + 3] === fingerprint.lo;
  }

  private put(entry: number, fingerprint: Hash64 | undefined, id: ObjectId | undefined): void {
    const chunk = entry >>> CHUNK_BITS;
    const at = entry & (CHUNK - 1);
    let state = fingerprint ? KNOWN : UNKNOWN;
    if (fingerprint) {
      this.words[chunk]![at * 4 + 2] = fingerprint.hi;
      this.words[chunk]![at * 4 + 3] = fingerprint.lo;
    }
    if (id) {
      this.ids[chunk]!.set(id.id, at * 12);
      state |= HAS_ID;
    }
    this.states[chunk]![at] = state;
  }

  /** A new entry for the key, indexed (growing the index first if it would be more than half full). */
  private append(key: Hash64): number {
    if ((this.size + 1) * 2 > this.capacity) this.grow();
    const entry = this.size++;
    const chunk = entry >>> CHUNK_BITS;
    if (chunk === this.words.length) {
      this.words.push(new Uint32Array(CHUNK * 4));
      this.states.push(new Uint8Array(CHUNK));
      this.ids.push(new Uint8Array(CHUNK * 12));
    }
    const at = entry & (CHUNK - 1);
    this.words[chunk]![at * 4] = key.hi;
    this.words[chunk]![at * 4 + 1] = key.lo;
    this.index[this.emptySlot(key)] = entry + 1;
    return entry;
  }

  /** The number of the entry holding the key, or -1. */
  private entryOf(key: Hash64): number {
    const mask = this.capacity - 1;
    for (let slot = startSlot(key, mask); ; slot = (slot + 1) & mask) {
      const held = this.index[slot]!;
      if (held === 0) return -1;
      const entry = held - 1;
      const words = this.words[entry >>> CHUNK_BITS]!;
      const at = (entry & (CHUNK - 1)) * 4;
      if (words[at] === key.hi && words[at + 1] === key.lo) return entry;
    }
  }

  /** The first empty slot on the key's probe sequence (linear probing). */
  private emptySlot(key: Hash64): number {
    const mask = this.capacity - 1;
    let slot = startSlot(key, mask);
    while (this.index[slot] !== 0) slot = (slot + 1) & mask;
    return slot;
  }

  /** Doubles the index and indexes every entry again; the entries stay where they are. */
  private grow(): void {
    this.capacity *= 2;
    this.index = new Uint32Array(this.capacity);
    for (let entry = 0; entry < this.size; entry++) {
      const words = this.words[entry >>> CHUNK_BITS]!;
      const at = (entry & (CHUNK - 1)) * 4;
      this.index[this.emptySlot({ hi: words[at]!, lo: words[at + 1]! })] = entry + 1;
    }
  }
}

function startSlot(key: Hash64, mask: number): number {
  return (key.lo ^ Math.imul(key.hi, 0x9e3779b1)) & mask;
}
