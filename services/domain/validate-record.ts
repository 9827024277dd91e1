/**
 * Validates one record against its entity's zod rules and says, per field,
 * what is wrong in words an administrator can act on.
 */
import type { EntitySpec } from "./entity-spec.js";

export interface FieldIssue {
  /** The field, or a dotted path into it (details.device). Empty for the record as a whole. */
  field: string;
  reason: string;
}

export type Validation = { ok: true; value: Record<string, unknown> } | { ok: false; issues: FieldIssue[] };

export interface ValidateOptions {
  /**
   * "full": a whole record (required fields must be present, cross-field rules
   * apply). "partial": only the fields given are checked (a merge into an
   * existing record; the merged result is validated in full afterwards).
   */
  completeness: "full" | "partial";
  /** Refuse fields the entity does not have (true for files; proto records cannot carry them). */
  rejectUnknown?: boolean;
}

/**
 * Returns the validated (normalised) record with read-only fields dropped:
 * re-importing an export that carries joined or server-assigned columns must
 * not fail because of them.
 */
export function validateRecord(spec: EntitySpec, input: Record<string, unknown>, options: ValidateOptions): Validation {
  const issues: FieldIssue[] = [];
  const value: Record<string, unknown> = {};
  if (options.rejectUnknown) {
    for (const key of Object.keys(input)) {
      if (!spec.fields.some((f) => f.key === key)) issues.push({ field: key, reason: `is not a field of ${spec.name}` });
    }
  }
  for (const field of spec.fields) {
    if (field.readOnly) continue;
    const raw = input[field.key];
    if (raw === undefined) {
      if (field.required && options.completeness === "full") issues.push({ field: field.key, reason: "is required" });
      continue;
    }
    const result = field.schema.safeParse(raw);
    if (result.success) {
      value[field.key] = result.data;
      continue;
    }
    for (const issue of result.error.issues) {
      const path = [field.key, ...issue.path.map(String)].join(".");
      issues.push({ field: path, reason: issue.message });
    }
  }
  if (issues.length === 0 && options.completeness === "full" && spec.crossFieldRules) {
    issues.push(...spec.crossFieldRules(value));
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value };
}

/** The natural key of a validated record as its parts, or undefined when a part is missing. */
export function naturalKeyOf(spec: EntitySpec, record: Record<string, unknown>): string[] | undefined {
  const parts: string[] = [];
  for (const key of spec.keyFields) {
    const part = record[key];
    if (typeof part !== "string" || part === "") return undefined;
    parts.push(part);
  }
  return parts;
}

/**
 * `keyString(naturalKeyOf(spec, record))`, without the list of parts in
 * between for the usual key of one field: the write path asks it of every
 * record, and those lists were 6 % of what the records service allocated an
 * imported row.
 */
export function naturalKeyString(spec: EntitySpec, record: Record<string, unknown>): string | undefined {
  if (spec.keyFields.length === 1) {
    const part = record[spec.keyFields[0]!];
    return typeof part === "string" && part !== "" ? part : undefined;
  }
  const parts = naturalKeyOf(spec, record);
  return parts && keyString(parts);
}

/** One string per key, for maps and duplicate detection. */
export function keyString(parts: readonly string[]): string {
  return parts.length === 1 ? parts[0]! : JSON.stringify(parts);
}
