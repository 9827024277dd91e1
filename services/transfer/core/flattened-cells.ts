/**
 * Cells of flattened columns (`details.clicks`, selected with
 * `fields=details.clicks` in a tabular export): a free-form object has no
 * declared types, so a cell must carry its value's type itself for the round
 * trip to be exact. Numbers and booleans are written as they are (a
 * spreadsheet shows 3 and true), null as `null`, nested objects and lists as
 * JSON text, and text as it is — unless it would read back as something else
 * (`3`, `true`, `null`, `"x"`, `{…}`), in which case it is written as a JSON
 * string (`"3"`). On import a flattened cell that is JSON is that value, any
 * other text is text.
 */
import { checkJsonText, duplicateKeyReason, inexactIntegerReason, type CellValue } from "../../../formats/_sdk/index.js";

/** The value a tabular plugin receives for a flattened column. */
export function flattenedCell(value: unknown): CellValue {
  if (value === undefined) return undefined;
  if (value === null) return "null";
  if (typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value === "string") return parsesAsJson(value) ? JSON.stringify(value) : value;
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}

/**
 * The value a flattened column's text cell stands for (the inverse of
 * {@link flattenedCell}); refused when it is a JSON object that gives a key
 * twice, which JSON.parse would quietly cut down to the last value, or holds an
 * integer longer than a number keeps exactly, which it would round.
 */
export function parseFlattenedCell(text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (!parsesAsJson(text)) return { ok: true, value: text };
  const value = JSON.parse(text) as unknown;
  const found = checkJsonText(text, value, { inexactIntegers: "all" });
  if (found?.duplicateKey !== undefined) return { ok: false, reason: duplicateKeyReason(found.duplicateKey.path) };
  if (found?.inexactInteger !== undefined) return { ok: false, reason: inexactIntegerReason(found.inexactInteger) };
  return { ok: true, value };
}

function parsesAsJson(text: string): boolean {
  const s = text.trim();
  if (s === "") return false;
  // Cheap refusal first: most text does not start like JSON.
  const c = s[0]!;
  if (!(c === "{" || c === "[" || c === '"' || c === "-" || (c >= "0" && c <= "9") || s === "true" || s === "false" || s === "null")) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
