/**
 * Creates the indexes a collection needs, idempotently, in a way every
 * MongoDB-compatible server accepts: the existing indexes are listed first and
 * only the missing ones are created, one per command.
 *
 * Why not one `createIndexes` with the whole list: FerretDB 1.24 panics
 * ("slice bounds out of range") and drops the connection when one command
 * names several indexes that already exist — which is every restart of a
 * service on existing data. One index per command also gives a clear error
 * naming the index that could not be built.
 */
import type { Collection, Document, IndexDescription } from "mongodb";

export async function ensureCollectionIndexes(collection: Collection<Document>, indexes: readonly IndexDescription[]): Promise<void> {
  const existing = await indexNames(collection);
  for (const index of indexes) {
    if (index.name && existing.has(index.name)) continue;
    try {
      await collection.createIndexes([index]);
    } catch (error) {
      throw new Error(`could not create index ${index.name ?? JSON.stringify(index.key)} on ${collection.collectionName}: ${(error as Error).message}`, { cause: error });
    }
  }
}

/** Drops those of the indexes `names` the collection has, one per command; idempotent. */
export async function dropCollectionIndexes(collection: Collection<Document>, names: readonly string[]): Promise<void> {
  const existing = await indexNames(collection);
  for (const name of names) {
    if (!existing.has(name)) continue;
    try {
      await collection.dropIndex(name);
    } catch (error) {
      throw new Error(`could not drop index ${name} on ${collection.collectionName}: ${(error as Error).message}`, { cause: error });
    }
  }
}

async function indexNames(collection: Collection<Document>): Promise<Set<string>> {
  const names = new Set<string>();
  try {
    for (const index of await collection.listIndexes().toArray()) names.add(String(index.name));
  } catch (error) {
    // A collection that does not exist yet has no indexes (NamespaceNotFound).
    if ((error as { code?: number }).code !== 26) throw error;
  }
  return names;
}
