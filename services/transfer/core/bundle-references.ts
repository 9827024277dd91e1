/**
 * References inside a bundle, for validating it before anything is written.
 *
 * A bundle's enrollments name users and courses that are in the same bundle
 * and not stored yet: a records-service dry run of the enrollments part
 * alone would call them dangling (`missing_reference`). So while the bundle
 * is validated, part by part in dependency order, the keys other entities
 * reference (a user's username, a course's code, a session's sessionId) of
 * every row that passed are kept in {@link BundleKeys}, and the dry runs of
 * later parts go through {@link bundleAwareWriter}, which lets a reference
 * pass when its value is one of those keys.
 *
 * What that cannot check: the records service stops at the first failed
 * check of a record, and references come first, so for a row whose
 * references are only in the bundle the later checks (insert onto an
 * existing key, a unique value taken) happen when the row is written. The
 * bundle job (jobs/import-bundle-job.ts) writes with a strict import per
 * part, which checks again, and undoes the earlier parts if one fails then.
 *
 * Memory: the kept keys, one string per referenced row (usernames, course
 * codes, session ids) — the bundle's referenced entities' keys, not rows.
 */
import type { EntitySpec } from "../../domain/index.js";
import type { RecordWriter, WriteError, WriteResult } from "./import-pipeline.js";

/** The referenced keys of the rows of a bundle's earlier parts that passed validation. */
export class BundleKeys {
  private readonly values = new Map<string, Set<string>>();

  /** Keys each part's referencing entities may name: `users.username`, `courses.code`, … (only targets some part of the bundle references). */
  constructor(parts: readonly EntitySpec[]) {
    const names = new Set(parts.map((p) => p.name));
    for (const part of parts) for (const ref of part.references) if (names.has(ref.entity)) this.values.set(target(ref.entity, ref.targetField), new Set());
  }

  /** Keeps the referenced keys of `record`, a row of `spec` that passed. */
  note(spec: EntitySpec, record: Record<string, unknown>): void {
    for (const [key, set] of this.values) {
      const [entity, field] = key.split(".") as [string, string];
      if (entity !== spec.name) continue;
      const value = record[field];
      if (typeof value === "string") set.add(value);
    }
  }

  has(entity: string, field: string, value: unknown): boolean {
    return typeof value === "string" && (this.values.get(target(entity, field))?.has(value) ?? false);
  }
}

function target(entity: string, field: string): string {
  return `${entity}.${field}`;
}

/**
 * A writer for the bundle's validating dry runs: `inner`'s answers, less the
 * missing references the bundle's earlier parts provide. A row left with no
 * error counts as an insert (what it references is not stored yet, so
 * neither is it), and its own referenced keys are kept for the parts after.
 * Real writes pass through untouched.
 */
export function bundleAwareWriter(inner: RecordWriter, spec: EntitySpec, keys: BundleKeys): RecordWriter {
  return {
    async write(records, options): Promise<WriteResult> {
      const result = await inner.write(records, options);
      if (!options.dryRun) return result;
      const byIndex = new Map<number, WriteError[]>();
      for (const e of result.errors) byIndex.set(e.index, [...(byIndex.get(e.index) ?? []), e]);
      const errors: WriteError[] = [];
      let provided = 0;
      for (const [index, rowErrors] of byIndex) {
        const left = rowErrors.filter((e) => !(e.code === "missing_reference" && inBundle(spec, keys, e.field, records[index]?.[e.field])));
        if (left.length === 0) provided++;
        errors.push(...left);
      }
      const failed = new Set(errors.map((e) => e.index));
      records.forEach((record, index) => {
        if (!failed.has(index)) keys.note(spec, record);
      });
      return { ...result, inserted: result.inserted + provided, errors };
    },
  };
}

function inBundle(spec: EntitySpec, keys: BundleKeys, field: string, value: unknown): boolean {
  const ref = spec.references.find((r) => r.field === field);
  return ref !== undefined && keys.has(ref.entity, ref.targetField, value);
}
