/**
 * Reference checks for a batch: a session's user and course must exist, and so
 * must an activity entry's user, session and course. One `$in` query per
 * referenced entity per batch (there is no $lookup to lean on, and one query
 * per record would make imports crawl).
 */
import type { Db } from "mongodb";
import { ENTITIES, type EntitySpec, type FieldIssue } from "../../domain/index.js";
import { collectionFor } from "./collections.js";

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

  add(target: string, value: string): void {
    let set = this.known.get(target);
    if (!set) this.known.set(target, (set = new Set()));
    if (set.size < this.maxPerTarget) set.add(value);
  }
}

/** Returns a function giving each record's missing-reference issues. */
export async function findMissingReferences(
  db: Db,
  spec: EntitySpec,
  records: Record<string, unknown>[],
  cache?: ReferenceCache,
): Promise<(record: Record<string, unknown>) => FieldIssue[]> {
  const known = new Map<string, Set<string>>();
  await Promise.all(
    spec.references.map(async (ref) => {
      const target = `${ref.entity}.${ref.targetField}`;
      const all = [...new Set(records.map((r) => r[ref.field]).filter((v): v is string => typeof v === "string"))];
      const found = new Set<string>(all.filter((v) => cache?.has(target, v)));
      const values = all.filter((v) => !found.has(v));
      known.set(ref.field, found);
      if (values.length === 0) return;
      const docs = await collectionFor(db, ENTITIES[ref.entity])
        .find({ [ref.targetField]: { $in: values } }, { projection: { _id: 0, [ref.targetField]: 1 } })
        .toArray();
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
