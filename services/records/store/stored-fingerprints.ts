/**
 * What one WriteRecords stream knows about the records already stored: for
 * each natural key, a fingerprint of its compared fields — loaded in one pass
 * over the collection, so that re-importing records that are already stored
 * as they are costs no look-up per batch.
 *
 * Why: on FerretDB 1.24 every look-up other than `_id` equality is a full scan
 * (`$in` over 1000 keys scans the collection once per batch: ~2 s against 30k
 * users), and `_id` equality is no better — FerretDB's SQLite backend queries
 * `_ferretdb_sjson->'$._id' = ?` while its index is on `_ferretdb_sjson->"_id"`,
 * so SQLite scans the table for each look-up (20–40 ms per look-up against 30k
 * documents, measured here). A re-import of an unchanged file therefore ran at
 * 250–490 rows/s; one pass over the collection costs what one batch's look-up
 * did, once per stream.
 *
 * Only a record equal to the stored one (same fingerprint, see
 * record-fingerprint.ts) is decided from here: "unchanged" in upsert and merge
 * mode, "skipped" in skip-existing mode. Every other record — new, changed,
 * partial, carrying a password — goes the usual way, by look-up. What the
 * stream itself writes is recorded as it is written. What other writers change
 * after the pass is not seen: such a record is decided as of the pass (as if
 * this import had read it then), which is the same as a write racing the import.
 *
 * Memory: two 64-bit hashes and a state byte per slot (17 bytes), at most half
 * the slots used — 34 to 68 bytes per stored record (36 MB for a million); past
 * {@link MAX_ENTRIES} records the pass is abandoned and the stream looks up
 * records per batch as before.
 */
import type { Db, Document } from "mongodb";
import { keyString, naturalKeyOf, type EntitySpec } from "../../domain/index.js";
import { collectionFor } from "./collections.js";
import { documentToRecord } from "./documents.js";
import { hash64, recordFingerprint, type Hash64 } from "./record-fingerprint.js";

/** Past this many stored records (1,048,576: a table of 2^21 slots, 36 MB), the stream does not load them and looks up per batch. */
export const MAX_ENTRIES = 1 << 20;

/** A batch needs at least this many look-ups of existing records before the pass is made. */
export const LOAD_THRESHOLD = 200;

const EMPTY = 0;
const KNOWN = 1;
/** Stored, but the fingerprint is not known (a value with no canonical form, or two keys with one 64-bit hash). */
const UNKNOWN = 2;

type State = "not-loaded" | "loaded" | "too-large";

/** The stored fingerprints of one entity. */
class FingerprintTable {
  private capacity = 1 << 12;
  private size = 0;
  private states = new Uint8Array(this.capacity);
  /** Per slot: key hash hi, key hash lo, fingerprint hi, fingerprint lo. */
  private words = new Uint32Array(this.capacity * 4);

  get count(): number {
    return this.size;
  }

  /** Sets the key's fingerprint; a key not held yet is added only while the table holds fewer than `maxNew`. */
  set(key: Hash64, fingerprint: Hash64 | undefined, maxNew: number): void {
    let slot = this.find(key);
    if (this.states[slot] === EMPTY) {
      // Left out, the key is simply not known: a later record with it is looked up.
      if (this.size >= maxNew) return;
      if ((this.size + 1) * 2 > this.capacity) {
        this.grow();
        slot = this.find(key);
      }
      this.size++;
      this.words[slot * 4] = key.hi;
      this.words[slot * 4 + 1] = key.lo;
    }
    this.put(slot, fingerprint);
  }

  /** Like set, for the load: a second stored key with the same 64-bit hash makes the slot unknown. */
  add(key: Hash64, fingerprint: Hash64 | undefined): void {
    if ((this.size + 1) * 2 > this.capacity) this.grow();
    const slot = this.find(key);
    if (this.states[slot] !== EMPTY) {
      this.states[slot] = UNKNOWN;
      return;
    }
    this.size++;
    this.words[slot * 4] = key.hi;
    this.words[slot * 4 + 1] = key.lo;
    this.put(slot, fingerprint);
  }

  /** True when the key is stored with this fingerprint. */
  matches(key: Hash64, fingerprint: Hash64): boolean {
    const slot = this.find(key);
    return this.states[slot] === KNOWN && this.words[slot * 4 + 2] === fingerprint.hi && this.words[slot * 4 + 3] === fingerprint.lo;
  }

  private put(slot: number, fingerprint: Hash64 | undefined): void {
    if (!fingerprint) {
      this.states[slot] = UNKNOWN;
      return;
    }
    this.states[slot] = KNOWN;
    this.words[slot * 4 + 2] = fingerprint.hi;
    this.words[slot * 4 + 3] = fingerprint.lo;
  }

  /** The key's slot, or the empty slot where it would go (linear probing). */
  private find(key: Hash64): number {
    const mask = this.capacity - 1;
    let slot = (key.lo ^ Math.imul(key.hi, 0x9e3779b1)) & mask;
    while (this.states[slot] !== EMPTY && (this.words[slot * 4] !== key.hi || this.words[slot * 4 + 1] !== key.lo)) slot = (slot + 1) & mask;
    return slot;
  }

  private grow(): void {
    const states = this.states;
    const words = this.words;
    this.capacity *= 2;
    this.states = new Uint8Array(this.capacity);
    this.words = new Uint32Array(this.capacity * 4);
    for (let old = 0; old < states.length; old++) {
      if (states[old] === EMPTY) continue;
      const slot = this.find({ hi: words[old * 4]!, lo: words[old * 4 + 1]! });
      this.states[slot] = states[old]!;
      this.words.set(words.subarray(old * 4, old * 4 + 4), slot * 4);
    }
  }
}

/** The key hash of a natural key of an entity. */
function keyHash(spec: EntitySpec, key: readonly string[]): Hash64 {
  return hash64(`${spec.name}\u0000${keyString(key)}`);
}

/** Per WriteRecords stream: the stored fingerprints of each entity it writes, loaded when a batch first needs many look-ups. */
export class StoredFingerprints {
  private readonly tables = new Map<string, { state: State; table: FingerprintTable }>();

  constructor(private readonly maxEntries = MAX_ENTRIES) {}

  /** Whether this entity's fingerprints are loaded (and so usable). */
  isLoaded(spec: EntitySpec): boolean {
    return this.tables.get(spec.name)?.state === "loaded";
  }

  /** Whether a batch with `lookUps` look-ups of existing records should load them now. */
  worthLoading(spec: EntitySpec, lookUps: number): boolean {
    return !spec.appendOnly && lookUps >= LOAD_THRESHOLD && !this.tables.has(spec.name);
  }

  /** One pass over the entity's collection (passwords left out). Abandoned past the size limit. */
  async load(db: Db, spec: EntitySpec): Promise<void> {
    const table = new FingerprintTable();
    const entry: { state: State; table: FingerprintTable } = { state: "too-large", table };
    const cursor = collectionFor(db, spec).find({}, { projection: { passwordHash: 0 }, batchSize: 1000 });
    try {
      for await (const doc of cursor) {
        if (table.count >= this.maxEntries) {
          this.tables.set(spec.name, entry);
          return;
        }
        this.addStored(spec, table, doc);
      }
    } finally {
      await cursor.close();
    }
    entry.state = "loaded";
    this.tables.set(spec.name, entry);
  }

  /** True when `record` (validated) is stored exactly as it is. */
  isStoredAsIs(spec: EntitySpec, record: Record<string, unknown>): boolean {
    const entry = this.tables.get(spec.name);
    if (entry?.state !== "loaded") return false;
    const key = naturalKeyOf(spec, record);
    const fingerprint = key && recordFingerprint(spec, record);
    return fingerprint ? entry.table.matches(keyHash(spec, key!), fingerprint) : false;
  }

  /** Records what this stream has just stored under a key (an insert or a change), so later batches compare with it. */
  written(spec: EntitySpec, stored: Record<string, unknown>): void {
    const entry = this.tables.get(spec.name);
    if (entry?.state !== "loaded") return;
    const key = naturalKeyOf(spec, stored);
    if (key) entry.table.set(keyHash(spec, key), recordFingerprint(spec, stored), this.maxEntries);
  }

  private addStored(spec: EntitySpec, table: FingerprintTable, doc: Document): void {
    const key = spec.keyFields.map((f) => doc[f]);
    if (!key.every((part): part is string => typeof part === "string" && part !== "")) return;
    table.add(keyHash(spec, key), recordFingerprint(spec, documentToRecord(spec, doc)));
  }
}
