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
 * A record that is not stored as it is (a corrected file's changed rows) is
 * looked up by the `_id` the pass read for its key ({@link storedIds}), which
 * FerretDB hands to its backend, rather than by its key, which it scans for.
 *
 * Memory (fingerprint-table.ts): 29 bytes a stored record and an index of
 * 4 bytes a slot, at most half the slots used — 37 MB for a million; past
 * {@link MAX_ENTRIES} records the pass is abandoned and the stream looks up
 * records per batch as before.
 */
import { BSON, ObjectId, type Db, type Document } from "mongodb";
import { naturalKeyString, type EntitySpec } from "../../domain/index.js";
import { collectionFor } from "./collections.js";
import { documentToRecord } from "./documents.js";
import { retryTransient } from "../../shared/mongo/transient-retry.js";
import { FingerprintTable } from "./fingerprint-table.js";
import { hash64, recordFingerprint, type Hash64 } from "./record-fingerprint.js";

/** Past this many stored records (1,048,576: 37 MB of table), the stream does not load them and looks up per batch. */
export const MAX_ENTRIES = 1 << 20;

/**
 * Documents a reply of the pass carries. Larger replies were not faster once
 * the pass has its own work to do (100k sessions: 7.3–8.9 s a pass in replies
 * of 1000 to 10,000, noise between runs larger than the difference), and the
 * driver held up to 130 MB more heap for replies of 10,000 (3 December 2026).
 * The documents are taken undecoded (the driver's `raw`) and each decoded as
 * it is fingerprinted, rather than a reply's worth at once.
 */
export const PASS_BATCH_SIZE = 1000;

/** A batch needs at least this many look-ups of existing records before the pass is made. */
export const LOAD_THRESHOLD = 200;

/** While "loading", the table holds what the pass has read so far, and what the stream wrote meanwhile; "stopped": the stream ended first. */
type State = "loading" | "loaded" | "too-large" | "stopped";

/** One entity's pass and what it has found. */
interface Pass {
  state: State;
  table: FingerprintTable;
  /** Settles when the pass ends; rejects with its error (after retries) if it failed. */
  done: Promise<void>;
  /** Batches waiting for keys the pass has not read yet. */
  waiters: Set<Waiter>;
}

/** A batch waiting for its keys: those not in the table yet, and how to wake it. */
interface Waiter {
  keys: Hash64[];
  wake: () => void;
}

/** While batches wait, the pass looks for their keys after this many documents (and at the end of each reply). */
const WAITER_CHECK_EVERY = 500;

/** The key hash of a natural key of an entity (as `naturalKeyString` gives it). */
function keyHash(spec: EntitySpec, key: string): Hash64 {
  return hash64(`${spec.name}\u0000${key}`);
}

/**
 * Per WriteRecords stream: the stored fingerprints of each entity it writes,
 * read in one pass over the collection when a batch first needs many
 * look-ups.
 *
 * The pass runs beside the stream rather than before it: a batch waits only
 * until every one of its keys has been read (or the pass has ended), and is
 * then decided from what the table holds. A file exported and imported again
 * lists its records in the order the collection holds them, so its batches
 * follow the pass closely instead of waiting for all of it: a re-import of
 * 100k unchanged sessions took the pass (6–7 s on FerretDB/SQLite) plus the
 * rows' own work (~3 s) before, and about the pass alone after. A key read
 * is decided exactly as after the whole pass would be; a record whose key the
 * pass has not read when it ends is looked up, as before.
 *
 * What the stream writes while the pass runs goes into the table too, and a
 * key the pass then reads again (the stream's own write, or a version read
 * before the write) becomes unknown, so it is looked up: the table never
 * says "stored as it is" of a value that was replaced.
 */
export class StoredFingerprints {
  private readonly passes = new Map<string, Pass>();
  private closed = false;

  /**
   * @param maxEntries past this many stored records the pass is abandoned
   * @param passBatchSize documents a reply of the pass carries (tests make the pass slow with small replies)
   */
  constructor(
    private readonly maxEntries = MAX_ENTRIES,
    private readonly passBatchSize = PASS_BATCH_SIZE,
  ) {}

  /** Whether this entity's whole pass has been read (and so its table can be used at once). */
  isLoaded(spec: EntitySpec): boolean {
    return this.passes.get(spec.name)?.state === "loaded";
  }

  /** Whether this entity's pass is under way. */
  isLoading(spec: EntitySpec): boolean {
    return this.passes.get(spec.name)?.state === "loading";
  }

  /** Whether a batch with `lookUps` look-ups of existing records should start the pass now. */
  worthLoading(spec: EntitySpec, lookUps: number): boolean {
    return !spec.appendOnly && lookUps >= LOAD_THRESHOLD && !this.passes.has(spec.name);
  }

  /**
   * Starts the pass over the entity's collection (passwords left out) unless
   * it is under way or done; it runs until it has read every document, passes
   * the size limit (abandoned), fails (after transient retries; a later batch
   * may start it again) or the stream ends ({@link close}).
   */
  start(db: Db, spec: EntitySpec): void {
    if (this.passes.has(spec.name)) return;
    const pass: Pass = { state: "loading", table: new FingerprintTable(), done: Promise.resolve(), waiters: new Set() };
    this.passes.set(spec.name, pass);
    pass.done = retryTransient(() => this.read(db, spec, pass)).then(
      () => this.wakeAll(pass),
      (error: unknown) => {
        // A later batch may start it again.
        if (this.passes.get(spec.name) === pass) this.passes.delete(spec.name);
        throw error;
      },
    );
    // Its failure reaches the batches waiting on it (whenRead), which fail with it; nobody else need hear it.
    pass.done.catch(() => undefined);
  }

  /** The whole pass: started if need be, and waited for. */
  async load(db: Db, spec: EntitySpec): Promise<void> {
    this.start(db, spec);
    await this.passes.get(spec.name)?.done;
  }

  /**
   * Waits until the pass has read the key of every record given (or has
   * ended), so that the table can say which of them are stored as they are.
   * Rejects with the pass's error if it failed.
   */
  async whenRead(spec: EntitySpec, records: Iterable<Record<string, unknown>>): Promise<void> {
    const pass = this.passes.get(spec.name);
    if (pass?.state !== "loading") return;
    const keys: Hash64[] = [];
    for (const record of records) {
      const key = naturalKeyString(spec, record);
      if (key !== undefined) keys.push(keyHash(spec, key));
    }
    const waiter: Waiter = { keys, wake: () => undefined };
    if (this.unread(pass, waiter) === 0) return;
    const woken = new Promise<void>((resolve) => (waiter.wake = resolve));
    pass.waiters.add(waiter);
    try {
      // A pass that fails (after its retries) fails the batches waiting on it, as when a batch read the pass itself.
      await Promise.race([woken, pass.done]);
    } finally {
      pass.waiters.delete(waiter);
    }
  }

  /** True when `record` (validated) is stored exactly as it is, as far as the pass has read. */
  isStoredAsIs(spec: EntitySpec, record: Record<string, unknown>): boolean {
    const table = this.readTable(spec);
    const key = table && naturalKeyString(spec, record);
    if (key === undefined) return false;
    const fingerprint = recordFingerprint(spec, record);
    return fingerprint !== undefined && table!.matches(keyHash(spec, key), fingerprint);
  }

  /**
   * The stored `_id` of each record whose key the pass has read (and the
   * stream has not written since), by natural key: a record that is not
   * stored as it is can then be looked up by `_id`, which FerretDB answers
   * without decoding every document (see batch-writer.ts, findStored).
   */
  storedIds(spec: EntitySpec, records: Iterable<Record<string, unknown>>): Map<string, ObjectId> {
    const ids = new Map<string, ObjectId>();
    const table = this.readTable(spec);
    if (!table) return ids;
    for (const record of records) {
      const key = naturalKeyString(spec, record);
      const id = key === undefined ? undefined : table.idOf(keyHash(spec, key));
      if (id) ids.set(key!, id);
    }
    return ids;
  }

  /** Records what this stream has just stored under a key (an insert or a change), so later batches compare with it. */
  written(spec: EntitySpec, stored: Record<string, unknown>): void {
    const table = this.readTable(spec);
    const key = table && naturalKeyString(spec, stored);
    if (key !== undefined) table!.set(keyHash(spec, key), recordFingerprint(spec, stored), this.maxEntries);
  }

  /** The entity's table while it can be used: the pass under way or done (not abandoned, failed or stopped). */
  private readTable(spec: EntitySpec): FingerprintTable | undefined {
    const pass = this.passes.get(spec.name);
    return pass?.state === "loaded" || pass?.state === "loading" ? pass.table : undefined;
  }

  /** Stops every pass under way (the stream has ended); batches waiting on one are woken. */
  close(): void {
    this.closed = true;
    for (const pass of this.passes.values()) this.wakeAll(pass);
  }

  /** One attempt at the pass; a retry starts the table again (what the stream wrote meanwhile is in the collection by then). */
  private async read(db: Db, spec: EntitySpec, pass: Pass): Promise<void> {
    pass.table = new FingerprintTable();
    const cursor = collectionFor(db, spec).find({}, { projection: { passwordHash: 0 }, batchSize: this.passBatchSize, raw: true });
    try {
      let sinceCheck = 0;
      for await (const bytes of cursor) {
        if (this.closed) {
          pass.state = "stopped";
          return;
        }
        if (pass.table.count >= this.maxEntries) {
          pass.state = "too-large";
          return;
        }
        // Decoded as the driver decodes a document of a cursor that is not raw (BSON's defaults are the driver's).
        this.addStored(spec, pass.table, BSON.deserialize(bytes as unknown as Uint8Array));
        if (pass.waiters.size > 0 && (++sinceCheck >= WAITER_CHECK_EVERY || cursor.bufferedCount() === 0)) {
          sinceCheck = 0;
          for (const waiter of pass.waiters) if (this.unread(pass, waiter) === 0) waiter.wake();
        }
      }
    } finally {
      await cursor.close();
    }
    pass.state = "loaded";
  }

  /** How many of the waiter's keys the pass has not read yet (those read are dropped from its list). */
  private unread(pass: Pass, waiter: Waiter): number {
    waiter.keys = waiter.keys.filter((key) => !pass.table.has(key));
    return waiter.keys.length;
  }

  private wakeAll(pass: Pass): void {
    for (const waiter of pass.waiters) waiter.wake();
  }

  private addStored(spec: EntitySpec, table: FingerprintTable, doc: Document): void {
    const key = naturalKeyString(spec, doc);
    if (key !== undefined) table.add(keyHash(spec, key), recordFingerprint(spec, documentToRecord(spec, doc)), doc._id instanceof ObjectId ? doc._id : undefined);
  }
}
