/**
 * Whether the database is FerretDB, whose query planning differs from
 * MongoDB's enough to choose another strategy: on FerretDB 1.24 every look-up
 * but `_id` equality scans the collection (and on its SQLite backend even that
 * one does), while MongoDB answers `$in` from an index.
 */
import type { Db } from "mongodb";

const known = new WeakMap<Db, Promise<boolean>>();

/** True on FerretDB (its `buildInfo` carries `ferretdbVersion`); asked once per Db. */
export function isFerretDb(db: Db): Promise<boolean> {
  let answer = known.get(db);
  if (!answer) {
    answer = db
      .admin()
      .command({ buildInfo: 1 })
      .then((info) => typeof info.ferretdbVersion === "string");
    // A failed ask is asked again next time rather than remembered.
    answer.catch(() => known.delete(db));
    known.set(db, answer);
  }
  return answer;
}
