/**
 * What kind of server the database is, where its query planning differs
 * enough from MongoDB's to choose another strategy: on FerretDB 1.24 every
 * look-up but `_id` equality scans the collection (and on its SQLite backend
 * even that one does), while MongoDB answers `$in` from an index.
 */
import type { Db, Document } from "mongodb";

const known = new WeakMap<Db, Promise<Document>>();

/** The server's `buildInfo`, asked once per Db (a failed ask is asked again next time rather than remembered). */
function buildInfo(db: Db): Promise<Document> {
  let answer = known.get(db);
  if (!answer) {
    answer = db.admin().command({ buildInfo: 1 });
    answer.catch(() => known.delete(db));
    known.set(db, answer);
  }
  return answer;
}

/** True on FerretDB (its `buildInfo` carries `ferretdbVersion`). */
export async function isFerretDb(db: Db): Promise<boolean> {
  return typeof (await buildInfo(db)).ferretdbVersion === "string";
}

/** True when the database answers queries from its secondary (non-unique) indexes; see {@link servesSecondaryIndexesPer}. */
export async function servesSecondaryIndexes(db: Db): Promise<boolean> {
  return servesSecondaryIndexesPer(await buildInfo(db));
}

/**
 * Whether a server of this `buildInfo` answers queries from secondary
 * (non-unique) indexes. FerretDB 1.x never does: its SQLite backend hands
 * SQLite only `_id` equality (through an expression its own index does not
 * match), its PostgreSQL backend equality as a jsonb containment (`@>`) that
 * no btree index serves, and neither hands over a range or a sort other than
 * `$natural` (FerretDB 1.24's backends/{sqlite,postgresql}/query.go). There
 * such an index is only a cost, paid on every write: inserting a session
 * took 37 µs with its key index alone and 53–54 µs with its five secondary
 * indexes as well (`bench/checks/secondary-index-cost.ts`). MongoDB, and
 * FerretDB 2 (on PostgreSQL's DocumentDB extension), use them.
 */
export function servesSecondaryIndexesPer(info: Document): boolean {
  if (typeof info.ferretdbVersion !== "string") return true;
  return !/^v?1\./.test(info.ferretdbVersion);
}
