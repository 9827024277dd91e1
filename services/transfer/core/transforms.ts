/**
 * Cell transforms named in an import mapping: small, explicit fixes a person
 * importing a file from another system needs (stray spaces, mixed-case
 * emails, local date forms, a value for empty cells, a key built from several
 * columns, another system's codes for this one's values). They run on the raw
 * cell, in the order given, before the cell is typed and validated.
 */
import { compileDateFormat, type DateFormat } from "./date-format-parser.js";
import { TransferSettingsError } from "./errors.js";

export type Transform =
  | { kind: "trim" }
  | { kind: "lowercase" }
  /** `timeZone` (IANA) is where dates without an offset are read; UTC when absent. */
  | { kind: "date"; format: string /* e.g. "DD/MM/YYYY", "YYYY-M-D H:mm:ss" */; timeZone?: string }
  | { kind: "default"; value: string }
  /** "{column}" is that column's cell in the same row, "{value}" the current value; "{{"/"}}" are braces. */
  | { kind: "template"; value: string }
  /**
   * Replaces a value by a table (Canvas `status=deleted` → `suspended`, Moodle's
   * role `5` → `student`). A value not in the table rejects the row unless
   * `unmapped` says to keep it or to give `default`; blank cells pass through.
   */
  | { kind: "map"; values: Record<string, string>; unmapped?: "error" | "keep" | "default"; default?: string; caseInsensitive?: boolean };

/** A transform ready to run: date formats compiled once per job. */
export type CompiledTransform = (value: unknown, row: Readonly<Record<string, unknown>>) => { ok: true; value: unknown } | { ok: false; reason: string };

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
    case "template":
      return compileTemplate(transform.value, setting);
    case "date": {
      if (typeof transform.format !== "string") throw new TransferSettingsError(`${setting}: a date transform needs a format`, [{ setting: `${setting}.format`, reason: "is required" }]);
      const format: DateFormat = compileDateFormat(transform.format, `${setting}.format`, transform.timeZone || undefined);
      return (value) => {
        if (isBlank(value) || value instanceof Date) return { ok: true, value: isBlank(value) ? undefined : value };
        if (typeof value === "number" && Number.isFinite(value) && format.epoch) value = String(value);
        if (typeof value !== "string") return { ok: false, reason: `expected a date in the format ${JSON.stringify(format.format)}, got ${typeof value}` };
        const parsed = format.parse(value);
        return parsed.ok ? { ok: true, value: parsed.date } : parsed;
      };
    }
    case "map":
      return compileValueMap(transform, setting);
    default:
      throw new TransferSettingsError(`${setting}: unknown transform ${JSON.stringify((transform as { kind?: unknown })?.kind)}`, [
        { setting: `${setting}.kind`, reason: "must be one of trim, lowercase, date, default, template, map" },
      ]);
  }
}

/** How many of a value map's keys a row error lists. */
const KEYS_LISTED = 10;

/** A value map ready to run; a table that is empty, or that clashes once case is ignored, is a settings error. */
function compileValueMap(transform: Extract<Transform, { kind: "map" }>, setting: string): CompiledTransform {
  const refuse = (at: string, reason: string): never => {
    throw new TransferSettingsError(`${setting}: ${at === "" ? "" : `${at} `}${reason}`, [{ setting: at === "" ? setting : `${setting}.${at}`, reason }]);
  };
  const { values, unmapped = "error", caseInsensitive = false } = transform;
  if (!values || typeof values !== "object" || Object.keys(values).length === 0) refuse("values", "must map at least one value");
  if (!["error", "keep", "default"].includes(unmapped)) refuse("unmapped", `must be error, keep or default, not ${JSON.stringify(unmapped)}`);
  if (unmapped === "default" && typeof transform.default !== "string") refuse("default", 'is required when unmapped is "default"');
  if (unmapped !== "default" && transform.default !== undefined) refuse("default", `is only used when unmapped is "default" (it is ${JSON.stringify(unmapped)})`);
  const table = new Map<string, string>();
  for (const [from, to] of Object.entries(values)) {
    if (typeof to !== "string") refuse(`values.${from}`, "must be text");
    const key = caseInsensitive ? from.toLowerCase() : from;
    const earlier = table.get(key);
    if (earlier !== undefined && earlier !== to) refuse(`values.${from}`, `clashes with another key once case is ignored (${JSON.stringify(earlier)} vs ${JSON.stringify(to)})`);
    table.set(key, to);
  }
  const keys = Object.keys(values);
  const known = `${keys
    .slice(0, KEYS_LISTED)
    .map((k) => JSON.stringify(k))
    .join(", ")}${keys.length > KEYS_LISTED ? `, and ${keys.length - KEYS_LISTED} more` : ""}`;
  return (value) => {
    if (isBlank(value)) return { ok: true, value };
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean")
      return { ok: false, reason: `a ${value instanceof Date ? "date" : typeof value} cell cannot be looked up in the value map` };
    const text = String(value);
    const found = table.get(caseInsensitive ? text.toLowerCase() : text);
    if (found !== undefined) return { ok: true, value: found };
    if (unmapped === "keep") return { ok: true, value };
    if (unmapped === "default") return { ok: true, value: transform.default };
    return { ok: false, reason: `is not in the value map (it maps ${known})` };
  };
}

/** Runs compiled transforms in order; the first refusal wins. */
export function applyTransforms(value: unknown, transforms: readonly CompiledTransform[], row: Readonly<Record<string, unknown>> = {}): { ok: true; value: unknown } | { ok: false; reason: string } {
  let current = value;
  for (const transform of transforms) {
    const result = transform(current, row);
    if (!result.ok) return result;
    current = result.value;
  }
  return { ok: true, value: current };
}

/**
 * A template over the row's columns. Placeholders are checked when the job
 * starts (an unclosed brace is a settings error); a column that a row lacks,
 * or whose cell is empty, rejects that row with the column's name rather
 * than building a half-empty key.
 */
function compileTemplate(template: unknown, setting: string): CompiledTransform {
  const parts = parseTemplate(template, setting);
  return (value, row) => {
    let out = "";
    for (const part of parts) {
      if ("text" in part) {
        out += part.text;
        continue;
      }
      const cell = part.column === "value" && !(part.column in row) ? value : row[part.column];
      if (isBlank(cell)) return { ok: false, reason: `the template needs column "${part.column}", which is ${cell === undefined ? "missing" : "empty"}` };
      out += cell instanceof Date ? cell.toISOString() : String(cell);
    }
    return { ok: true, value: out };
  };
}

type TemplatePart = { text: string } | { column: string };

/** A template's text and column parts; an unclosed or unmatched brace is a settings error naming `setting`. */
function parseTemplate(template: unknown, setting: string): TemplatePart[] {
  if (typeof template !== "string" || template === "") {
    throw new TransferSettingsError(`${setting}: a template needs a value`, [{ setting: `${setting}.value`, reason: "is required" }]);
  }
  const parts: TemplatePart[] = [];
  let i = 0;
  let text = "";
  while (i < template.length) {
    const c = template[i]!;
    if ((c === "{" || c === "}") && template[i + 1] === c) {
      text += c;
      i += 2;
    } else if (c === "{") {
      const end = template.indexOf("}", i);
      if (end < 0) throw new TransferSettingsError(`${setting}: the template ${JSON.stringify(template)} has an unclosed "{"`, [{ setting: `${setting}.value`, reason: 'has an unclosed "{"' }]);
      if (text) parts.push({ text });
      text = "";
      parts.push({ column: template.slice(i + 1, end) });
      i = end + 1;
    } else if (c === "}") {
      throw new TransferSettingsError(`${setting}: the template ${JSON.stringify(template)} has a "}" without "{" (write "}}" for a brace)`, [
        { setting: `${setting}.value`, reason: 'has an unmatched "}"' },
      ]);
    } else {
      text += c;
      i++;
    }
  }
  if (text) parts.push({ text });
  return parts;
}

/**
 * The file columns a mapping's transforms read besides its source (a
 * template's `{column}` placeholders; `{value}` is the source itself), so the
 * core can check them against the file's header before a row is read.
 */
export function columnsReadBy(transforms: readonly Transform[] | undefined): string[] {
  const columns: string[] = [];
  for (const t of transforms ?? []) {
    if (t?.kind !== "template") continue;
    try {
      for (const part of parseTemplate(t.value, "template")) if ("column" in part && part.column !== "value") columns.push(part.column);
    } catch {
      // reported when the transform is compiled
    }
  }
  return columns;
}
