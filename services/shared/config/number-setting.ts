/**
 * A numeric setting, from a config file (a JSON number) or the environment
 * (its decimal text). `z.coerce.number()`, used before, runs `Number()` on
 * whatever it gets: an environment value of a single space read as 0 (an
 * `exportChangeOverlapSeconds` of 0: incremental exports that can miss the
 * writes under way), `0x1F90` as 8080, and a file's `true` or `null` as 1 or 0.
 * Here only a number, or text that spells one in decimal, is a number; any
 * other value reaches `z.number()` as it is and is refused with the key's name.
 */
import { z } from "zod";
import { decimalNumber } from "../../../formats/_sdk/coerce-cell.js";

/** Decimal text as its number; everything else unchanged, for the number schema to refuse. */
export function numberFromText(value: unknown): unknown {
  return typeof value === "string" ? (decimalNumber(value) ?? value) : value;
}

/** `schema` (a `z.number()` with its bounds) taking decimal text as well as numbers. */
export function numberSetting(schema: z.ZodNumber) {
  return z.preprocess(numberFromText, schema);
}

/** A whole number from `min` (to `max`), as text or a number. */
export function wholeNumberSetting(min: number, max?: number) {
  const bounded = z.number().int().min(min);
  return numberSetting(max === undefined ? bounded : bounded.max(max));
}
