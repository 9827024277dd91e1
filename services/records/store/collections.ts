/**
 * The records service's collections and their indexes. Unique indexes on
 * natural keys are the last line of defence against duplicates written by
 * concurrent callers; the batch writer checks first so that the common case
 * gets a clear per-record error instead of a bulk-write failure.
 */
import type { Collection, Db, Document, IndexDescription } from "mongodb";
import { ENTITIES, type EntityName, type EntitySpec } from "../../domain/index.js";
import { AuditLog } from "../../shared/audit/index.js";
import { ensureCollectionIndexes } from "../../shared/mongo/ensure-indexes.js";
import { usesObjectIdKey } from "./documents.js";

export function collectionFor(db: Db, spec: EntitySpec): Collection<Document> {
  return db.collection(spec.name);
}

export function indexesFor(spec: EntitySpec): IndexDescription[] {
  const indexes: IndexDescription[] = [];
  if (!usesObjectIdKey(spec)) {
    indexes.push({ key: Object.fromEntries(spec.keyFields.map((f) => [f, 1])), unique: true, name: `key_${spec.keyFields.join("_")}` });
  }
  for (const field of spec.uniqueFields) indexes.push({ key: { [field]: 1 }, unique: true, name: `unique_${field}` });
  for (const field of spec.indexedFields) {
    if (spec.keyFields[0] === field) continue;
    indexes.push({ key: { [field]: 1 }, name: `by_${field}` });
  }
  // What an incremental export filters on (changed_since).
  if (spec.changeField && !spec.indexedFields.includes(spec.changeField)) indexes.push({ key: { [spec.changeField]: 1 }, name: `by_${spec.changeField}` });
  return indexes;
}

/** Creates every collection's indexes (the audit trail's too); idempotent, run at start. */
export async function ensureIndexes(db: Db, names: EntityName[] = Object.keys(ENTITIES) as EntityName[]): Promise<void> {
  for (const name of names) {
    const spec = ENTITIES[name];
    await ensureCollectionIndexes(collectionFor(db, spec), indexesFor(spec));
  }
  await new AuditLog(db, "records").ensureIndexes();
}
