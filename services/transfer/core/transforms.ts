/**
 * Cell transforms named in an import mapping: small, explicit fixes a person
 * importing a file from another system needs (stray spaces, mixed-case
 * emails, local date forms, a value for empty cells). They run on the raw
 * cell, in the order given, before the cell is typed and validated.
 */
import { compileDateFormat, type DateFormat } from "./date-format.js";
import { TransferSettingsError } from "./errors.js";

export type Transform =
  | { kind: "trim" }
  | { kind: "lowercase" }
  | { kind: "date"; format: string /* e.g. "DD/MM/YYYY", "YYYY-MM-DD HH:mm" */ }
  | { kind: "default"; value: string };

/** A transform ready to run: date formats compiled once per job. */
export type CompiledTransform = (value: unknown) => { ok: true; value: unknown } | { ok: false; reason: string };

/** True for what a `default` fills: no cell, a null, or a blank cell. */
export function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === "string" && value.trim() === "");
}

/** Compiles one transform; an unknown kind or a bad date format is a settings error naming `setting`. */
export function compileTransform(transform: Transform, setting: string): CompiledTransform {
  switch (transform?.kind) {
    case "trim":
      return (value) => ({ ok: true, value: typeof value === "string" ? value.trim() : value });
    case "lowercase":
      return (value) => ({ ok: true, value: typeof value === "string" ? value.toLowerCase() : value });
    case "default": {
      if (typeof transform.value !== "string") throw new TransferSettingsError(`${setting}: a default value must be text`, [{ setting: `${setting}.value`, reason: "must be text" }]);
      const fallback = transform.value;
      return (value) => ({ ok: true, value: isBlank(value) ? fallback : value });
    }
    case "date": {
      if (typeof transform.format !== "string") throw new TransferSettingsError(`${setting}: a date transform needs a format`, [{ setting: `${setting}.format`, reason: "is required" }]);
      const format: DateFormat = compileDateFormat(transform.format, `${setting}.format`);
      return (value) => {
        if (isBlank(value) || value instanceof Date) return { ok: true, value: isBlank(value) ? undefined : value };
        if (typeof value !== "string") return { ok: false, reason: `expected a date in the format ${JSON.stringify(format.format)}, got ${typeof value}` };
        const date = format.parse(value);
        return date === undefined ? { ok: false, reason: `does not match the date format ${JSON.stringify(format.format)}` } : { ok: true, value: date };
      };
    }
    default:
      throw new TransferSettingsError(`${setting}: unknown transform ${JSON.stringify((transform as { kind?: unknown })?.kind)}`, [
        { setting: `${setting}.kind`, reason: "must be one of trim, lowercase, date, default" },
      ]);
  }
}

/** Runs compiled transforms in order; the first refusal wins. */
export function applyTransforms(value: unknown, transforms: readonly CompiledTransform[]): { ok: true; value: unknown } | { ok: false; reason: string } {
  let current = value;
  for (const transform of transforms) {
    const result = transform(current);
    if (!result.ok) return result;
    current = result.value;
  }
  return { ok: true, value: current };
}
