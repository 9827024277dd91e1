/**
 * Reference checks for a batch: a session's user and course must exist, and so
 * must an activity entry's user, session and course. One `$in` query per
 * referenced entity per batch (there is no $lookup to lean on, and one query
 * per record would make imports crawl), or a few equality queries where the
 * server evaluates those but not `$in` (point-lookups.ts).
 */
import type { Db } from "mongodb";
import { ENTITIES, type EntitySpec, type FieldIssue } from "../../domain/index.js";
import { collectionFor } from "./collections.js";
import { findByPoints } from "./point-lookups.js";

/**
 * Remembers references found to exist during one stream of batches, so a
 * long import of sessions does not look up the same users and courses again
 * for every batch. Only positive answers are kept; the cache lives as long
 * as one WriteRecords call.
 */
export class ReferenceCache {
  private readonly known = new Map<string, Set<string>>();
  private readonly maxPerTarget: number;

  constructor(maxPerTarget = 200_000) {
    this.maxPerTarget = maxPerTarget;
  }

  has(target: string, value: string): boolean {
    return this.known.get(target)?.has(value) ?? false;
  }

  /** Targets whose every key was loaded at once (see preloadIfWorthIt). */
  readonly complete = new Set<string>();

  get capacity(): number {
    return this.maxPerTarget;
  }

  add(target: string, value: string): void {
    let set = this.known.get(target);
    if (!set) this.known.set(target, (set = new Set()));
    if (set.size < this.maxPerTarget) set.add(value);
  }
}

/** Returns a function giving each record's missing-reference issues. */
export async function findMissingReferences(db: Db, spec: EntitySpec, records: Record<string, unknown>[], cache?: ReferenceCache): Promise<(record: Record<string, unknown>) => FieldIssue[]> {
  const known = new Map<string, Set<string>>();
  await Promise.all(
    spec.references.map(async (ref) => {
      const target = `${ref.entity}.${ref.targetField}`;
      const all = [...new Set(records.map((r) => r[ref.field]).filter((v): v is string => typeof v === "string"))];
      const found = new Set<string>(all.filter((v) => cache?.has(target, v)));
      const values = all.filter((v) => !found.has(v));
      known.set(ref.field, found);
      if (values.length === 0) return;
      if (cache && (await preloadIfWorthIt(db, cache, ref.entity, ref.targetField, values.length))) {
        for (const v of values) if (cache.has(target, v)) found.add(v);
        return;
      }
      const docs = await findByPoints(
        db,
        collectionFor(db, ENTITIES[ref.entity]),
        { [ref.targetField]: { $in: values } },
        values.map((value) => ({ [ref.targetField]: value })),
        { projection: { _id: 0, [ref.targetField]: 1 } },
      );
      for (const doc of docs) {
        found.add(String(doc[ref.targetField]));
        cache?.add(target, String(doc[ref.targetField]));
      }
    }),
  );
  return (record) => {
    const issues: FieldIssue[] = [];
    for (const ref of spec.references) {
      const value = record[ref.field];
      if (typeof value === "string" && !known.get(ref.field)?.has(value)) {
        issues.push({ field: ref.field, reason: `no ${ENTITIES[ref.entity].name.replace(/s$/, "")} with ${ref.targetField} "${value}"` });
      }
    }
    return issues;
  };
}

/** Records of `entity` that point at a record by `field` = `value` (a username or course code: never personal). */
export interface Referrer {
  entity: string;
  field: string;
  value: string;
}

/**
 * Who still references a stored record (sessions, enrollments or activity
 * naming a user by username, a course by code), or undefined when
 * nothing does: deleting it would orphan them. One look-up per referencing
 * entity; DeleteRecord and RevertWrites ask it before deleting.
 */
export async function findReferrer(db: Db, spec: EntitySpec, doc: Record<string, unknown>): Promise<Referrer | undefined> {
  for (const other of Object.values(ENTITIES)) {
    for (const ref of other.references) {
      if (ref.entity !== spec.name) continue;
      const value = doc[ref.targetField];
      if (value === undefined) continue;
      const found = await collectionFor(db, other).findOne({ [ref.field]: value }, { projection: { _id: 1 } });
      if (found) return { entity: other.name, field: ref.field, value: String(value) };
    }
  }
  return undefined;
}

/** Below this many unknown references in one batch, an `$in` look-up is used. */
export const PRELOAD_THRESHOLD = 200;

/**
 * When a batch misses many references (an import of enrollments or sessions
 * names thousands of users), loads every key of the target once for the rest
 * of the stream: one pass over the users instead of one `$in` per batch.
 * On servers that scan for `$in` (FerretDB) this turns a quadratic import
 * into a linear one; on MongoDB it is one covered index scan. Only done when
 * the target fits the cache; once loaded, a value not in it does not exist
 * (as of that moment: a record created later in the stream by another caller
 * is looked up again).
 */
async function preloadIfWorthIt(db: Db, cache: ReferenceCache, entity: keyof typeof ENTITIES, field: string, misses: number): Promise<boolean> {
  const target = `${entity}.${field}`;
  if (cache.complete.has(target)) return true;
  if (misses < PRELOAD_THRESHOLD) return false;
  const collection = collectionFor(db, ENTITIES[entity]);
  const total = await collection.estimatedDocumentCount();
  if (total > cache.capacity) return false;
  for await (const doc of collection.find({}, { projection: { _id: 0, [field]: 1 }, batchSize: 10_000 })) {
    if (typeof doc[field] === "string") cache.add(target, doc[field] as string);
  }
  cache.complete.add(target);
  return true;
}
