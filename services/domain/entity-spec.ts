/**
 * An entity is a table of fields plus what the store needs to know: its
 * natural key, its time fields (for range filters), cross-field rules, and
 * whether it is append-only. Everything else (validation, column metadata,
 * Mongo indexes) is derived from it.
 */
import type { FieldSpec } from "./field-spec.js";

export type EntityName = "users" | "courses" | "sessions" | "enrollments" | "activity";

export interface CrossFieldIssue {
  field: string;
  reason: string;
}

/** A reference from a field of this entity to the natural key of another. */
export interface Reference {
  field: string;
  entity: EntityName;
  /** The referenced entity's field holding the value (its single-field id). */
  targetField: string;
}

export interface EntitySpec {
  name: EntityName;
  label: string;
  fields: readonly FieldSpec[];
  /** Natural key, in key order. */
  keyFields: readonly string[];
  /** Further unique fields (each gets a unique index). */
  uniqueFields: readonly string[];
  timeFields: readonly string[];
  /** Fields worth an index for filters and joins. */
  indexedFields: readonly string[];
  references: readonly Reference[];
  appendOnly: boolean;
  /**
   * The read-only time field the server sets on every write that changes a
   * record (an insert of an append-only entry): what an incremental export's
   * `changed_since` filters on. Absent for sources that are not records.
   */
  changeField?: string;
  /** Rules that involve more than one field, checked on the full record. */
  crossFieldRules?: (record: Record<string, unknown>) => CrossFieldIssue[];
  /** Defaults applied when a record is created (not on merge of existing). */
  defaults?: () => Record<string, unknown>;
}

export function fieldOf(spec: EntitySpec, key: string): FieldSpec | undefined {
  return spec.fields.find((f) => f.key === key);
}

/** Fields a client may write (not read-only). */
export function writableFields(spec: EntitySpec): FieldSpec[] {
  return spec.fields.filter((f) => !f.readOnly);
}

/**
 * What a read that names no fields returns, and so an export's default
 * columns: every readable field the records hold themselves. Joined fields
 * are filled in only when named, and each costs a look-up in another
 * collection per batch.
 */
export function defaultReadFields(spec: EntitySpec): FieldSpec[] {
  return spec.fields.filter((f) => !f.writeOnly && !f.joined);
}
