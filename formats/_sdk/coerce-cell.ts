/**
 * Turns what a reader produced (CSV strings, JSON values) into a typed cell.
 *
 * Readers stay format-only and never guess types; this one function holds the
 * typing rules so that every format imports a "42" or a "2024-03-07" the same
 * way, and so the transfer core can reuse it when validating. It never throws:
 * a refusal carries a reason the user can act on.
 *
 * Missing vs empty: `undefined` means the cell was missing and stays missing.
 * An empty string is a real value for `string` columns (a CSV `""`), and means
 * missing for every other type, because "" is not a number, date or list.
 */
import type { CellValue, FieldType } from "./plugin.js";
import { clip, parseTimestamp } from "./parse-timestamp.js";
import { checkJsonText, duplicateKeyReason, inexactIntegerReason } from "./json-text.js";

export type CoerceResult = { ok: true; value: CellValue } | { ok: false; reason: string };

/** Plain decimal or scientific notation; no hex, no thousands separators, no NaN/Infinity. */
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * The finite number a text spells in decimal or scientific notation (white
 * space around it allowed), else undefined. `Number()` alone also takes `""`
 * and `" "` as 0 and `0x1A` as 26: every reader of numbers from outside text
 * (cells, spreadsheet values, settings) goes through this instead.
 */
export function decimalNumber(text: string): number | undefined {
  const s = text.trim();
  if (!NUMBER.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}
const TRUE = new Set(["true", "1", "yes"]);
const FALSE = new Set(["false", "0", "no"]);

/** Coerces a raw reader value to the column's type. */
export function coerceCell(value: unknown, type: FieldType): CoerceResult {
  if (value === undefined) return { ok: true, value: undefined };
  if (value === null) return { ok: true, value: null };
  if (type !== "string" && typeof value === "string" && value.trim() === "") return { ok: true, value: undefined };
  switch (type) {
    case "string":
      return toText(value);
    case "number":
      return toNumber(value);
    case "boolean":
      return toBoolean(value);
    case "timestamp":
      return toTimestamp(value);
    case "object":
      return toObject(value);
    case "string_list":
      return toStringList(value);
    case "object_list":
      return toObjectList(value);
  }
}

function toText(value: unknown): CoerceResult {
  if (typeof value === "string") return { ok: true, value };
  if (typeof value === "number") return Number.isFinite(value) ? { ok: true, value: String(value) } : refuse("a finite number", value);
  if (typeof value === "boolean") return { ok: true, value: String(value) };
  if (value instanceof Date) return isValidDate(value) ? { ok: true, value: value.toISOString() } : refuse("a valid date", value);
  return refuse("text", value);
}

function toNumber(value: unknown): CoerceResult {
  if (typeof value === "number") return Number.isFinite(value) ? { ok: true, value } : refuse("a finite number", value);
  if (typeof value !== "string") return refuse("a number", value);
  const s = value.trim();
  if (!NUMBER.test(s)) return { ok: false, reason: `not a number: ${JSON.stringify(clip(s))}` };
  const n = Number(s);
  if (!Number.isFinite(n)) return { ok: false, reason: `number out of range: ${JSON.stringify(clip(s))}` };
  return { ok: true, value: n };
}

function toBoolean(value: unknown): CoerceResult {
  if (typeof value === "boolean") return { ok: true, value };
  if (value === 1 || value === 0) return { ok: true, value: value === 1 };
  if (typeof value !== "string") return refuse("a boolean", value);
  const s = value.trim().toLowerCase();
  if (TRUE.has(s)) return { ok: true, value: true };
  if (FALSE.has(s)) return { ok: true, value: false };
  return { ok: false, reason: `not a boolean: ${JSON.stringify(clip(value))} (use true/false, 1/0 or yes/no)` };
}

function toTimestamp(value: unknown): CoerceResult {
  if (value instanceof Date) return isValidDate(value) ? { ok: true, value } : refuse("a valid date", value);
  // A bare number says no unit: Unix seconds, milliseconds and a spreadsheet's day number are all
  // common, and reading one as another lands years away without a trace. So it is refused; the
  // mapping's date transform (format X or x) reads epoch values when the file says which.
  if (typeof value === "number") return { ok: false, reason: numberIsNotATimestamp(value) };
  if (typeof value !== "string") return refuse("a timestamp", value);
  return parseTimestamp(value);
}

function toObject(value: unknown): CoerceResult {
  const v = typeof value === "string" ? parseJsonText(value, "{") : { ok: true as const, value };
  if (!v.ok) return v;
  return isPlainObject(v.value) ? { ok: true, value: v.value as CellValue } : refuse("an object", v.value);
}

function toStringList(value: unknown): CoerceResult {
  const v = typeof value === "string" ? parseJsonText(value, "[") : { ok: true as const, value };
  if (!v.ok) return v;
  if (!Array.isArray(v.value)) return refuse("a list of strings", v.value);
  const out: string[] = [];
  for (const item of v.value) {
    if (typeof item === "string") out.push(item);
    else if (typeof item === "number" && Number.isFinite(item)) out.push(String(item));
    else if (typeof item === "boolean") out.push(String(item));
    else return { ok: false, reason: `list item is not a string: ${describe(item)}` };
  }
  return { ok: true, value: out };
}

function toObjectList(value: unknown): CoerceResult {
  const v = typeof value === "string" ? parseJsonText(value, "[") : { ok: true as const, value };
  if (!v.ok) return v;
  if (!Array.isArray(v.value)) return refuse("a list of objects", v.value);
  for (const item of v.value) if (!isPlainObject(item)) return { ok: false, reason: `list item is not an object: ${describe(item)}` };
  return { ok: true, value: v.value as CellValue };
}

/**
 * Nested values travel through text formats as JSON text (that is what
 * {@link formatCell} writes), so a text cell for an object or list column must
 * be JSON; anything else is refused rather than split on a guessed separator,
 * and so is an object that gives a key twice (at any depth).
 */
function parseJsonText(text: string, opener: "{" | "["): { ok: true; value: unknown } | { ok: false; reason: string } {
  const s = text.trim();
  const what = opener === "{" ? "a JSON object" : "a JSON array";
  if (!s.startsWith(opener)) return { ok: false, reason: `expected ${what}, got ${JSON.stringify(clip(s))}` };
  let value: unknown;
  try {
    value = JSON.parse(s);
  } catch (err) {
    return { ok: false, reason: `invalid JSON for ${what}: ${(err as Error).message}` };
  }
  // JSON.parse keeps the last of a key given twice and rounds long integers: refuse the cell rather than change a value.
  const found = checkJsonText(s, value, { inexactIntegers: "all" });
  if (found?.duplicateKey !== undefined) return { ok: false, reason: duplicateKeyReason(found.duplicateKey.path) };
  if (found?.inexactInteger !== undefined) return { ok: false, reason: inexactIntegerReason(found.inexactInteger) };
  return { ok: true, value };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Date) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Why a number cell is not taken as a timestamp, and the three ways to give one. */
function numberIsNotATimestamp(n: number): string {
  return (
    `a number is not a timestamp: ${describe(n)} could be Unix seconds, milliseconds or a spreadsheet's day number; ` +
    "write the date as ISO 8601 text (2024-03-07T14:30:00Z), format the cell as a date in a spreadsheet, " +
    'or map the column with the date transform, format "X" (Unix seconds) or "x" (milliseconds)'
  );
}

function isValidDate(d: Date): boolean {
  return !Number.isNaN(d.getTime());
}

function refuse(expected: string, got: unknown): CoerceResult {
  return { ok: false, reason: `expected ${expected}, got ${describe(got)}` };
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (v instanceof Date) return isValidDate(v) ? "a date" : "an invalid date";
  if (typeof v === "string") return JSON.stringify(clip(v));
  if (typeof v === "number") return String(v);
  if (typeof v === "object") return "an object";
  return typeof v;
}
