/**
 * What an incremental export needs from the store: every record carries the
 * time of its last change (the entity's `changeField`, set by the batch
 * writer on every insert and change), and every deletion leaves a tombstone
 * — the entity, the deleted record's natural key and when — so a downstream
 * copy can follow deletions as well as changes.
 *
 * Records stored before change fields existed have none; the first start of
 * this version stamps them with the time of that start (once, remembered in
 * `migrations`), so an export "changed since" any earlier time includes them
 * — too many once, never too few.
 */
import type { Db, Document } from "mongodb";
import { ENTITIES, type EntityName, type EntitySpec } from "../../domain/index.js";
import { cursorBatches } from "../../shared/mongo/cursor-batches.js";
import { ensureCollectionIndexes } from "../../shared/mongo/ensure-indexes.js";
import { collectionFor } from "./collections.js";

/** The collection of tombstones: one document per deleted record. */
export const TOMBSTONES = "tombstones";
const MIGRATIONS = "migrations";
const STAMP_MIGRATION = "change-fields-v1";

/** One deletion: which record (its natural key, in key order) and when. */
export interface Tombstone {
  entity: EntityName;
  key: string[];
  deletedAt: Date;
}

/** At start, after the collections' indexes: the tombstones' index, and change times for records stored without one. */
export async function prepareChangeTracking(db: Db): Promise<void> {
  await ensureCollectionIndexes(db.collection(TOMBSTONES), [{ key: { entity: 1, deletedAt: 1 }, name: "by_entity_deletedAt" }]);
  await stampRecordsWithoutChangeTime(db);
}

/**
 * Gives every record without a change time the time of this start, once per
 * database (a marker in `migrations` says it was done). Idempotent: a start
 * that stops half-way does the rest next time, since the marker is written last.
 */
export async function stampRecordsWithoutChangeTime(db: Db, now = new Date()): Promise<number> {
  const migrations = db.collection<{ _id: string; at: Date; stamped: number }>(MIGRATIONS);
  if (await migrations.findOne({ _id: STAMP_MIGRATION })) return 0;
  let stamped = 0;
  for (const spec of Object.values(ENTITIES)) {
    if (!spec.changeField) continue;
    const result = await collectionFor(db, spec).updateMany({ [spec.changeField]: { $exists: false } }, { $set: { [spec.changeField]: now } });
    stamped += result.modifiedCount;
  }
  await migrations.updateOne({ _id: STAMP_MIGRATION }, { $setOnInsert: { at: now, stamped } }, { upsert: true });
  return stamped;
}

/** Records that a record was deleted: written after the delete succeeded. */
export async function recordTombstone(db: Db, spec: EntitySpec, key: readonly string[], deletedAt = new Date()): Promise<void> {
  await db.collection(TOMBSTONES).insertOne({ entity: spec.name, key: [...key], deletedAt });
}

/**
 * The tombstones of one entity since a time (all when absent), oldest first,
 * in batches; the cursor is closed however the reader stops (cursorBatches).
 */
export function readTombstones(db: Db, spec: EntitySpec, options: { since?: Date; batchSize: number; limit?: number }): AsyncGenerator<Tombstone[]> {
  const filter: Document = { entity: spec.name, ...(options.since ? { deletedAt: { $gte: options.since } } : {}) };
  const cursor = db
    .collection(TOMBSTONES)
    .find(filter, { projection: { _id: 0, entity: 1, key: 1, deletedAt: 1 } })
    .sort({ deletedAt: 1, _id: 1 })
    .batchSize(options.batchSize);
  if (options.limit && options.limit > 0) cursor.limit(options.limit);
  return cursorBatches(cursor, options.batchSize, (doc) => ({ entity: spec.name, key: (doc.key as unknown[]).map(String), deletedAt: doc.deletedAt as Date }));
}
