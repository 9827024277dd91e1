/**
 * Finding a few stored records by a list of values (keys, unique values,
 * references): one `$in` query, or — where the server evaluates an equality
 * filter itself but not an `$in` — one equality query per value, a few at a
 * time.
 *
 * Why: FerretDB 1.24 on PostgreSQL turns `{ email: "a@b" }` into a jsonb
 * filter PostgreSQL evaluates (its `explain` says `filterPushdown: true`), but
 * `{ email: { $in: [...] } }` into a scan whose every document FerretDB
 * decodes and filters itself (`filterPushdown: false`). Measured 1 December
 * 2026 against 30k users on this machine (2 cores, load ~16): 20 equality
 * finds, all at once, 150–430 ms; one `$in` of the same 20 values,
 * 2.4–6.5 s. On FerretDB's SQLite backend neither shape is pushed down, and
 * equality finds at once are far worse there (20 took 32–39 s); on MongoDB
 * `$in` is an index scan. Both keep the one `$in`.
 *
 * The server is asked, not guessed: `explain` of the two query shapes on the
 * collection itself says whether each is pushed down.
 */
import type { Collection, Db, Document, FindOptions } from "mongodb";
import { isFerretDb } from "./server-kind.js";

/**
 * At most this many values are looked up one by one; more go in one `$in`.
 * Twenty equality finds cost about a tenth of one `$in` scan of 30k users, so
 * up to ~200 would still pay there; 100 leaves room for slower servers. A
 * write stream that looks up more (200 records in one batch) on FerretDB
 * loads the stored fingerprints instead (stored-fingerprints.ts).
 */
export const POINT_LOOKUP_LIMIT = 100;

/** Equality finds in flight at once: enough to overlap round trips, few enough to leave the server's connections to others. */
const CONCURRENCY = 8;

/** How long a "no" is believed: the collection may not exist yet (nothing is pushed down on a missing table). */
const NO_FOR_MS = 60_000;

type Strategy = "point" | "in";

const answers = new Map<string, { strategy: Strategy; until: number }>();

/**
 * The documents matching `inFilter`, which are those matching any of `points`
 * (one equality filter per value or key; no two may match the same document,
 * as distinct values of one field or distinct keys cannot), found by the one
 * query or by each point, whichever the server answers faster. In no
 * particular order.
 */
export async function findByPoints(db: Db, collection: Collection, inFilter: Document, points: Document[], options: FindOptions = {}): Promise<Document[]> {
  if (points.length === 0) return [];
  if ((await lookupStrategy(db, collection, inFilter, points)) === "in") return collection.find(inFilter, options).toArray();
  const found: Document[] = [];
  let next = 0;
  async function lane(): Promise<void> {
    while (next < points.length) {
      const point = points[next++]!;
      found.push(...(await collection.find(point, options).toArray()));
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, points.length) }, lane));
  return found;
}

/**
 * Whether `points` would be looked up one by one ("point") or by `inFilter`
 * ("in") on this collection; exported for the tests. Asked of the server once
 * per collection and query shape (a "no" again after a minute).
 */
export async function lookupStrategy(db: Db, collection: Collection, inFilter: Document, points: Document[]): Promise<Strategy> {
  if (points.length === 0 || points.length > POINT_LOOKUP_LIMIT) return "in";
  const shape = `${collection.dbName}.${collection.collectionName}:${Object.keys(points[0]!).sort().join(",")}`;
  const known = answers.get(shape);
  if (known && known.until > Date.now()) return known.strategy;
  const strategy = await askServer(db, collection, inFilter, points[0]!);
  answers.set(shape, { strategy, until: strategy === "point" ? Number.POSITIVE_INFINITY : Date.now() + NO_FOR_MS });
  return strategy;
}

async function askServer(db: Db, collection: Collection, inFilter: Document, point: Document): Promise<Strategy> {
  // MongoDB answers `$in` from an index; only FerretDB reports filterPushdown.
  if (!(await isFerretDb(db))) return "in";
  const [pointPlan, inPlan] = await Promise.all([collection.find(point).explain(), collection.find(inFilter).explain()]);
  return pointPlan.filterPushdown === true && inPlan.filterPushdown !== true ? "point" : "in";
}
