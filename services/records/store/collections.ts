/**
 * The records service's collections and their indexes. Unique indexes on
 * natural keys are the last line of defence against duplicates written by
 * concurrent callers; the batch writer checks first so that the common case
 * gets a clear per-record error instead of a bulk-write failure.
 */
import type { Collection, Db, Document, IndexDescription } from "mongodb";
import { ENTITIES, type EntityName, type EntitySpec } from "../../domain/index.js";
import { AuditLog } from "../../shared/audit/index.js";
import { dropCollectionIndexes, ensureCollectionIndexes } from "../../shared/mongo/ensure-indexes.js";
import { usesObjectIdKey } from "./documents.js";
import { servesSecondaryIndexes } from "./server-kind.js";

export function collectionFor(db: Db, spec: EntitySpec): Collection<Document> {
  return db.collection(spec.name);
}

/**
 * The indexes `spec`'s collection has: unique ones on the natural key and on
 * unique fields always (they keep the data right), and, where the server
 * answers queries from them (`secondary`, see server-kind.ts), ones on the
 * fields exports filter and sort on, and on the change time incremental
 * exports read from.
 */
export function indexesFor(spec: EntitySpec, secondary: boolean): IndexDescription[] {
  const indexes: IndexDescription[] = [];
  if (!usesObjectIdKey(spec)) {
    indexes.push({ key: Object.fromEntries(spec.keyFields.map((f) => [f, 1])), unique: true, name: `key_${spec.keyFields.join("_")}` });
  }
  for (const field of spec.uniqueFields) indexes.push({ key: { [field]: 1 }, unique: true, name: `unique_${field}` });
  if (secondary) indexes.push(...secondaryIndexesFor(spec));
  return indexes;
}

/** The non-unique indexes of `spec`'s collection (each named `by_<field>`). */
function secondaryIndexesFor(spec: EntitySpec): IndexDescription[] {
  const indexes: IndexDescription[] = [];
  for (const field of spec.indexedFields) {
    if (spec.keyFields[0] === field) continue;
    indexes.push({ key: { [field]: 1 }, name: `by_${field}` });
  }
  // What an incremental export filters on (changed_since).
  if (spec.changeField && !spec.indexedFields.includes(spec.changeField)) indexes.push({ key: { [spec.changeField]: 1 }, name: `by_${spec.changeField}` });
  return indexes;
}

/**
 * Creates every collection's indexes (the audit trail's too); idempotent, run
 * at start. On a server that never queries through secondary indexes
 * (FerretDB 1.x) the records' collections get only their unique ones, and
 * secondary ones an earlier version created there are dropped: they would
 * only slow every write.
 */
export async function ensureIndexes(db: Db, names: EntityName[] = Object.keys(ENTITIES) as EntityName[]): Promise<void> {
  const secondary = await servesSecondaryIndexes(db);
  for (const name of names) {
    const spec = ENTITIES[name];
    const collection = collectionFor(db, spec);
    await ensureCollectionIndexes(collection, indexesFor(spec, secondary));
    if (!secondary)
      await dropCollectionIndexes(
        collection,
        secondaryIndexesFor(spec).map((index) => index.name!),
      );
  }
  await new AuditLog(db, "records").ensureIndexes();
}
