/**
 * What an import's writes replaced, kept so that the import can be undone
 * (RevertWrites, revert-writes.ts): for every record a transfer job's
 * WriteRecords calls updated or merged, its stored document as it was just
 * before (its before-image: every field, `_id` and a user's password hash
 * included), and for every batch of records they inserted, the keys that were
 * new. Each entry also holds the change time the job's write gave its records,
 * which is how a revert tells a record changed again since from one left as
 * the job wrote it.
 *
 * Why here and not in the transfer service's database, as issue 11 first
 * said: the records service owns the records and the personal-data policy,
 * and a user's before-image holds their name and password hash, which the
 * transfer service must never hold.
 *
 * Two forms, by what a write has to keep:
 *
 * - an update: one document per (job, entity, natural key), its `_id` made
 *   of the three, so a record the same job writes twice keeps its first
 *   before-image (its state before the job) and only the change time moves
 *   on. Updates are replacements, far costlier than the entry beside them.
 * - inserts: one document per inserted batch ({@link InsertedBatchDocument}),
 *   the batch's keys packed into one string. An insert needs no before-image, only its
 *   key, and on FerretDB/SQLite a write costs per document: one entry per
 *   inserted record doubled the documents an import of new records writes.
 *   Measured (bench/checks/revert-insert-cost.ts, 20k sessions through
 *   WriteRecords, 6 interleaved rounds): with a job id 0.67× the rate without
 *   one when each record had its entry, 1.06× (level, within the noise) with
 *   one per batch: 20 documents for 20k records, not 20k more.
 *   A key the same job inserts and later writes again is in a batch entry and
 *   an update's entry (or two batch entries); a revert takes its first state
 *   from the earliest and its change time from the latest (revert-writes.ts).
 *
 * Entries are written before the write they describe is sent, so a write
 * never lands unremembered; those of writes the database then refused are
 * removed, and the keys of refused inserts taken out of their batch's entry
 * ({@link forget}).
 *
 * Kept `RECORDS_REVERT_RETENTION_DAYS` (default 30): `expiresAt`, purged by a
 * TTL index on MongoDB. FerretDB 1.24 has no TTL indexes ("expireAfterSeconds
 * is not implemented"), so there the service purges expired entries itself
 * ({@link purgeExpiredBeforeImages}, at start and hourly), and a revert never
 * uses an expired entry whoever purged it.
 */
import { MongoBulkWriteError, type ObjectId, type Collection, type Db, type Document } from "mongodb";
import { keyString, type EntityName, type EntitySpec } from "../../domain/index.js";
import { ensureCollectionIndexes } from "../../shared/mongo/ensure-indexes.js";
import { isFerretDb } from "./server-kind.js";

export const BEFORE_IMAGES = "before_images";

/** Days before-images are kept when the configuration says nothing. */
export const DEFAULT_REVERT_RETENTION_DAYS = 30;

/** What a job's update of one record replaced. */
export interface UpdatedRecordDocument {
  /** `<jobId>/<entity>/<keyString>`: one entry per record and job. */
  _id: string;
  jobId: string;
  entity: EntityName;
  kind: "updated";
  /** The record's natural key parts, in key order. */
  key: string[];
  /** The stored document before the job's first write of it. */
  before: Document;
  /** The change time (the entity's `changeField`) the job's last write of the record set. */
  changedAt: Date;
  expiresAt: Date;
  /** When a revert put the record back (or found nothing to do). */
  revertedAt?: Date;
}

/** The records one batch of a job inserted. */
export interface InsertedBatchDocument {
  /** Chosen when the batch is remembered: in the order batches were written. */
  _id: ObjectId;
  jobId: string;
  entity: EntityName;
  kind: "inserted";
  /**
   * The inserted records' keys as {@link keyString} gives them (an activity
   * entry's: its `_id`, in hex), as the JSON text of their list: read them
   * with {@link batchKeys}. One string, not an array, because FerretDB 1.24
   * stores an array with a type entry per element: an entry of 500 session
   * keys cost it 3.4–3.5 ms of CPU as an array against 2.1–2.2 ms as one
   * string (0.8 ms with no keys), 2.3–2.9 µs of the database's time per
   * imported record (`bench/checks/revert-entry-cost.ts`, 2 December 2026).
   */
  packedKeys?: string;
  /** The same keys as an array: how entries written before 2 December 2026 hold them (still read). */
  keys?: string[];
  /** The change time the batch's inserts set. */
  changedAt: Date;
  expiresAt: Date;
  /** Keys a revert has settled, so that a revert run again goes on with the others. */
  settled?: string[];
  /** When a revert settled every key. */
  revertedAt?: Date;
}

export type BeforeImageDocument = UpdatedRecordDocument | InsertedBatchDocument;

/** One update about to be sent: the record's key and the stored document it replaces or merges into. */
export interface RememberedUpdate {
  key: string[];
  before: Document;
}

/** A batch's writes about to be sent, as {@link remember} takes them. */
export interface RememberedBatch {
  /** The `_id` of the inserts' entry. */
  batchId: ObjectId;
  /** Keys of the records about to be inserted. */
  inserted: string[][];
  updated: RememberedUpdate[];
}

/** Where a job's writes are remembered: the job and how long to keep them. */
export interface WriteMemory {
  db: Db;
  jobId: string;
  retentionMs: number;
}

/** What {@link remember} stored, for {@link forget} to take back what the database then refused. */
export interface Remembered {
  /** The batch entry of the inserts, when there were any, and the keys it holds. */
  inserted?: { id: ObjectId; keys: string[] };
  /** Ids of update entries created now (not those the job's earlier writes created). */
  created: Set<string>;
  expiresAt: Date;
}

export function beforeImages(db: Db): Collection<BeforeImageDocument> {
  return db.collection<BeforeImageDocument>(BEFORE_IMAGES);
}

/** The same collection, typed for update entries (the filters that find them name `kind: "updated"` or an `_id` of theirs). */
export function updatedRecords(db: Db): Collection<UpdatedRecordDocument> {
  return db.collection<UpdatedRecordDocument>(BEFORE_IMAGES);
}

/** The same collection, typed for inserted-batch entries. */
export function insertedBatches(db: Db): Collection<InsertedBatchDocument> {
  return db.collection<InsertedBatchDocument>(BEFORE_IMAGES);
}

/** The keys an inserted batch's entry holds, in either of its forms. */
export function batchKeys(entry: Pick<InsertedBatchDocument, "packedKeys" | "keys">): string[] {
  return entry.packedKeys !== undefined ? (JSON.parse(entry.packedKeys) as string[]) : (entry.keys ?? []);
}

export function entryId(jobId: string, entity: EntityName, key: readonly string[]): string {
  return `${jobId}/${entity}/${keyString(key)}`;
}

/** At start: the job index, and the TTL index (a plain one on FerretDB, which purges by sweep). */
export async function prepareBeforeImages(db: Db): Promise<void> {
  const ttl = !(await isFerretDb(db));
  await ensureCollectionIndexes(beforeImages(db) as unknown as Collection<Document>, [
    { key: { jobId: 1, entity: 1 }, name: "by_job_entity" },
    ttl ? { key: { expiresAt: 1 }, name: "ttl_expiresAt", expireAfterSeconds: 0 } : { key: { expiresAt: 1 }, name: "by_expiresAt" },
  ]);
}

/**
 * Purges expired entries now and every hour (a timer that keeps no process
 * alive): where the TTL index purges them (MongoDB) this finds nothing; on
 * FerretDB it is the purge. Returns what stops it.
 */
export function purgeExpiredBeforeImagesHourly(db: Db, onError: (error: unknown) => void): () => void {
  const purge = () => void purgeExpiredBeforeImages(db).catch(onError);
  purge();
  const timer = setInterval(purge, 60 * 60 * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/** Deletes the entries whose time is up: FerretDB's stand-in for the TTL index. */
export async function purgeExpiredBeforeImages(db: Db, now = new Date()): Promise<number> {
  const result = await beforeImages(db).deleteMany({ expiresAt: { $lte: now } });
  return result.deletedCount;
}

/**
 * Stores the entries of a batch's writes about to be sent, all with the
 * change time `changedAt`: one entry for its inserts, under `writes.batchId`
 * (chosen once per batch, so that remembering it again after a lost answer
 * does not store it twice), and one per update, which a record already
 * remembered for this job keeps (its first before-image; only its change time
 * and expiry move on).
 */
export async function remember(memory: WriteMemory, spec: EntitySpec, writes: RememberedBatch, changedAt: Date): Promise<Remembered> {
  const expiresAt = new Date(changedAt.getTime() + memory.retentionMs);
  const [inserted, created] = await Promise.all([rememberInserts(memory, spec, writes, changedAt, expiresAt), rememberUpdates(memory, spec, writes.updated, changedAt, expiresAt)]);
  return { ...(inserted ? { inserted } : {}), created, expiresAt };
}

async function rememberInserts(memory: WriteMemory, spec: EntitySpec, writes: RememberedBatch, changedAt: Date, expiresAt: Date): Promise<Remembered["inserted"]> {
  if (writes.inserted.length === 0) return undefined;
  const keys = writes.inserted.map(keyString);
  const entry: InsertedBatchDocument = { _id: writes.batchId, jobId: memory.jobId, entity: spec.name, kind: "inserted", packedKeys: JSON.stringify(keys), changedAt, expiresAt };
  try {
    await insertedBatches(memory.db).insertOne(entry);
  } catch (error) {
    // Stored by an earlier try whose answer was lost.
    if ((error as { code?: number }).code !== 11000) throw error;
  }
  return { id: entry._id, keys };
}

async function rememberUpdates(memory: WriteMemory, spec: EntitySpec, writes: RememberedUpdate[], changedAt: Date, expiresAt: Date): Promise<Set<string>> {
  const created = new Set<string>();
  if (writes.length === 0) return created;
  const docs: UpdatedRecordDocument[] = writes.map((w) => ({
    _id: entryId(memory.jobId, spec.name, w.key),
    jobId: memory.jobId,
    entity: spec.name,
    kind: "updated",
    key: [...w.key],
    before: w.before,
    changedAt,
    expiresAt,
  }));
  const collection = updatedRecords(memory.db);
  const taken = new Set<number>();
  try {
    await collection.insertMany(docs, { ordered: false });
  } catch (error) {
    if (!(error instanceof MongoBulkWriteError)) throw error;
    const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
    for (const e of writeErrors) {
      if (e.code !== 11000) throw error;
      taken.add(e.index);
    }
  }
  for (let i = 0; i < docs.length; i++) {
    const doc = docs[i]!;
    if (!taken.has(i)) {
      created.add(doc._id);
      continue;
    }
    // Written again by the same job: the first before-image stays, the change time is the latest write's.
    await collection.updateOne({ _id: doc._id }, { $set: { changedAt, expiresAt } });
  }
  return created;
}

/**
 * Takes back what {@link remember} stored for writes the database then
 * refused (nothing of theirs landed): refused inserts' keys leave the batch
 * entry (which goes when none is left), and update entries created for
 * refused updates go.
 */
export async function forget(memory: WriteMemory, remembered: Remembered, refused: { insertedKeys: ReadonlySet<string>; updateIds: readonly string[] }): Promise<void> {
  const batch = remembered.inserted;
  if (batch && refused.insertedKeys.size > 0) {
    const kept = batch.keys.filter((k) => !refused.insertedKeys.has(k));
    if (kept.length === 0) await insertedBatches(memory.db).deleteOne({ _id: batch.id });
    else await insertedBatches(memory.db).updateOne({ _id: batch.id }, { $set: { packedKeys: JSON.stringify(kept) } });
    batch.keys = kept;
  }
  const ids = refused.updateIds.filter((id) => remembered.created.has(id));
  if (ids.length > 0) await updatedRecords(memory.db).deleteMany({ _id: { $in: ids } });
}
