/**
 * Reference checks for a batch: a session's user and course must exist, and so
 * must an activity entry's user, session and course. One `$in` query per
 * referenced entity per batch (there is no $lookup to lean on, and one query
 * per record would make imports crawl).
 */
import type { Db } from "mongodb";
import { ENTITIES, type EntitySpec, type FieldIssue } from "../../domain/index.js";
import { collectionFor } from "./collections.js";

/** Returns a function giving each record's missing-reference issues. */
export async function findMissingReferences(db: Db, spec: EntitySpec, records: Record<string, unknown>[]): Promise<(record: Record<string, unknown>) => FieldIssue[]> {
  const known = new Map<string, Set<string>>();
  await Promise.all(
    spec.references.map(async (ref) => {
      const values = [...new Set(records.map((r) => r[ref.field]).filter((v): v is string => typeof v === "string"))];
      const found = new Set<string>();
      known.set(ref.field, found);
      if (values.length === 0) return;
      const target = ENTITIES[ref.entity];
      const docs = await collectionFor(db, target)
        .find({ [ref.targetField]: { $in: values } }, { projection: { _id: 0, [ref.targetField]: 1 } })
        .toArray();
      for (const doc of docs) found.add(String(doc[ref.targetField]));
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
