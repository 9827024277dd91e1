/**
 * Field specifications: one table per entity describes each field once — its
 * zod schema (the validation rule), its column metadata (label, type, flags) —
 * so validation, DescribeEntity and the format plugins' columns can never
 * disagree.
 */
import { z } from "zod";

export type FieldType = "string" | "number" | "boolean" | "timestamp" | "object" | "string_list" | "object_list";

export interface FieldSpec {
  key: string;
  label: string;
  type: FieldType;
  /** The rule a written value must satisfy (undefined is handled by `required`). */
  schema: z.ZodType;
  required: boolean;
  keyPart: boolean;
  allowedValues?: readonly string[];
  /** Accepted on write, never returned (passwords). */
  writeOnly: boolean;
  /** Returned, never written (joins, server-assigned values). */
  readOnly: boolean;
  /** Personal data: emails and names. */
  personal: boolean;
  /**
   * Read from another collection (a session's user name, its course's title,
   * its activity), and only when asked for by name: a read that does not name
   * it carries no value for it, so a default selection leaves it out rather
   * than giving a column that is empty in every row.
   */
  joined: boolean;
  description: string;
}

type Flags = Partial<Pick<FieldSpec, "required" | "keyPart" | "writeOnly" | "readOnly" | "personal" | "joined" | "description">>;

const NUL = /\u0000/;
/** A UTF-16 surrogate without its other half: not text, and it becomes U+FFFD on the wire (UTF-8). */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A string rule that refuses NUL characters: MongoDB deployments vary in how
 * they treat them (FerretDB refuses them outright) and no LMS value needs one.
 */
export function text(options: { min?: number; max: number; pattern?: RegExp; patternHint?: string }): z.ZodString {
  let schema = z.string({ error: (issue) => (issue.input === undefined ? "is required" : `expected a string, got ${describe(issue.input)}`) });
  schema = schema.refine((v) => !NUL.test(v), "must not contain NUL characters") as unknown as z.ZodString;
  schema = schema.refine(
    (v) => !LONE_SURROGATE.test(v),
    "must be valid Unicode text: it has a lone surrogate (\\uD800–\\uDFFF without its pair), which would be stored as U+FFFD",
  ) as unknown as z.ZodString;
  const min = options.min ?? 1;
  schema = schema.min(min, min === 1 ? "must not be empty" : `must be at least ${min} characters`);
  schema = schema.max(options.max, `must be at most ${options.max} characters`);
  if (options.pattern) schema = schema.regex(options.pattern, options.patternHint ?? `must match ${options.pattern}`);
  return schema;
}

/** Describes a rejected value briefly, for error reasons. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "an invalid date" : "a date";
  if (typeof value === "number") return Number.isNaN(value) ? "NaN" : Number.isFinite(value) ? "a number" : "Infinity";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

export function stringField(key: string, label: string, schema: z.ZodType, flags: Flags = {}): FieldSpec {
  return base(key, label, "string", schema, flags);
}

export function enumField(key: string, label: string, values: readonly [string, ...string[]], flags: Flags = {}): FieldSpec {
  const schema = z
    .string({ error: (issue) => `expected one of ${values.join(", ")}, got ${describe(issue.input)}` })
    .refine((v) => values.includes(v), { message: `must be one of ${values.join(", ")}` });
  return { ...base(key, label, "string", schema, flags), allowedValues: values };
}

export function numberField(key: string, label: string, options: { min?: number; max?: number; integer?: boolean }, flags: Flags = {}): FieldSpec {
  let schema = z.number({ error: (issue) => `expected a number, got ${describe(issue.input)}` });
  if (options.integer) schema = schema.int("must be a whole number");
  if (options.min !== undefined) schema = schema.min(options.min, `must be at least ${options.min}`);
  if (options.max !== undefined) schema = schema.max(options.max, `must be at most ${options.max}`);
  return base(key, label, "number", schema, flags);
}

export function booleanField(key: string, label: string, flags: Flags = {}): FieldSpec {
  return base(key, label, "boolean", z.boolean({ error: (issue) => `expected true or false, got ${describe(issue.input)}` }), flags);
}

/** Timestamps between years 1000 and 9999: dates outside that are always typos. */
export function timestampField(key: string, label: string, flags: Flags = {}): FieldSpec {
  const schema = z
    .date({ error: (issue) => `expected a timestamp, got ${describe(issue.input)}` })
    .min(new Date("1000-01-01T00:00:00Z"), "must be after the year 1000")
    .max(new Date("9999-12-31T23:59:59.999Z"), "must be before the year 10000");
  return base(key, label, "timestamp", schema, flags);
}

export function objectField(key: string, label: string, schema: z.ZodType, flags: Flags = {}): FieldSpec {
  return base(key, label, "object", schema, flags);
}

export function listField(key: string, label: string, type: "string_list" | "object_list", flags: Flags = {}): FieldSpec {
  return base(key, label, type, z.array(z.unknown()), { readOnly: true, ...flags });
}

function base(key: string, label: string, type: FieldType, schema: z.ZodType, flags: Flags): FieldSpec {
  return {
    key,
    label,
    type,
    schema,
    required: flags.required ?? false,
    keyPart: flags.keyPart ?? false,
    writeOnly: flags.writeOnly ?? false,
    readOnly: flags.readOnly ?? false,
    personal: flags.personal ?? false,
    joined: flags.joined ?? false,
    description: flags.description ?? "",
  };
}
