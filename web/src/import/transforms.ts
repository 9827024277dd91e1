/**
 * The transforms a mapped column goes through before its value is typed and
 * validated (the service's `Transform`: trim, lowercase, date with a format
 * and time zone, default, template, value map), as the mapping editor keeps
 * them: plain data that a person edits one control at a time, so a value map
 * is a list of rows (a half-typed row, or two rows with one key, must be
 * shown and said, which an object keyed by the cell text could not hold).
 *
 * One place turns them into what is sent — the PreviewImport request's
 * protobuf `Transform`s and `POST /import`'s `mapping` JSON — and says what
 * is wrong with them first, so the service never has to refuse what the page
 * let through.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Transform_Map_Unmapped, type TransformSchema } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";

export type Unmapped = "error" | "keep" | "default";

export interface ValueMapRow {
  from: string;
  to: string;
}

export type Transform =
  | { kind: "trim" }
  | { kind: "lowercase" }
  | { kind: "date"; format: string; timeZone: string }
  | { kind: "default"; value: string }
  | { kind: "template"; value: string }
  | { kind: "map"; rows: ValueMapRow[]; unmapped: Unmapped; default: string; caseInsensitive: boolean };

export type TransformKind = Transform["kind"];

/** Column → its transforms, in the order they run. */
export type ColumnTransforms = Record<string, Transform[]>;

/** What the "add a transform" menu offers, in its order, with what each does. */
export const TRANSFORM_KINDS: readonly { kind: TransformKind; label: string }[] = [
  { kind: "trim", label: "trim spaces" },
  { kind: "lowercase", label: "lowercase" },
  { kind: "date", label: "date in a format" },
  { kind: "default", label: "default for empty cells" },
  { kind: "template", label: "template from columns" },
  { kind: "map", label: "value map" },
];

export function transformLabel(kind: TransformKind): string {
  return TRANSFORM_KINDS.find((k) => k.kind === kind)?.label ?? kind;
}

/** A new transform of `kind`, with the fields a person fills in empty (a map starts with one row). */
export function newTransform(kind: TransformKind): Transform {
  switch (kind) {
    case "trim":
    case "lowercase":
      return { kind };
    case "date":
      return { kind, format: "", timeZone: "" };
    case "default":
    case "template":
      return { kind, value: "" };
    case "map":
      return { kind, rows: [{ from: "", to: "" }], unmapped: "error", default: "", caseInsensitive: false };
  }
}

/**
 * What is wrong with one transform, by the name of the control at fault
 * (`format`, `timeZone`, `value`, `default`, `rows`, `row.<i>`); an empty
 * object when it can be sent. The service checks the same and more (a date
 * format's tokens, a template's braces): its refusals are shown as well.
 */
export function transformProblems(transform: Transform): Record<string, string> {
  const problems: Record<string, string> = {};
  switch (transform.kind) {
    case "date":
      if (transform.format.trim() === "") problems.format = "A date format is required, e.g. DD/MM/YYYY.";
      if (transform.timeZone.trim() !== "" && !isTimeZone(transform.timeZone.trim())) problems.timeZone = `${JSON.stringify(transform.timeZone.trim())} is not an IANA time zone, e.g. Europe/Paris.`;
      break;
    case "template":
      if (transform.value === "") problems.value = "A template is required, e.g. {code}-{year}.";
      break;
    case "map": {
      const seen = new Map<string, number>();
      transform.rows.forEach((row, i) => {
        if (row.from === "" && row.to === "") return;
        if (row.from === "") {
          problems[`row.${i}`] = "Say which value this row replaces.";
          return;
        }
        const key = transform.caseInsensitive ? row.from.toLowerCase() : row.from;
        const first = seen.get(key);
        if (first !== undefined) problems[`row.${i}`] = `${JSON.stringify(row.from)} is already mapped in row ${first + 1}${transform.caseInsensitive ? " (case ignored)" : ""}.`;
        else seen.set(key, i);
      });
      if (seen.size === 0) problems.rows = "Map at least one value.";
      if (transform.unmapped === "default" && transform.default === "") problems.default = "Give the value for cells the map does not list.";
      break;
    }
    default:
      break;
  }
  return problems;
}

/** Columns whose transforms have a problem: Preview and Import wait until they are fixed. */
export function columnsWithProblems(transforms: ColumnTransforms, mappedColumns: readonly string[]): string[] {
  return mappedColumns.filter((c) => (transforms[c] ?? []).some((t) => Object.keys(transformProblems(t)).length > 0));
}

/** An IANA zone the browser knows (Intl refuses the others with a RangeError). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The map rows that say something: blank rows are the editor's, not the import's. */
function filledRows(rows: readonly ValueMapRow[]): ValueMapRow[] {
  return rows.filter((r) => r.from !== "" || r.to !== "");
}

/** The transform as `POST /import`'s `mapping` JSON takes it (services/transfer/api/http/import-route.ts). */
export function formTransformOf(transform: Transform): Record<string, unknown> {
  switch (transform.kind) {
    case "trim":
    case "lowercase":
      return { kind: transform.kind };
    case "date":
      return { kind: "date", format: transform.format, ...(transform.timeZone.trim() ? { timeZone: transform.timeZone.trim() } : {}) };
    case "default":
    case "template":
      return { kind: transform.kind, value: transform.value };
    case "map":
      return {
        kind: "map",
        values: Object.fromEntries(filledRows(transform.rows).map((r) => [r.from, r.to])),
        unmapped: transform.unmapped,
        ...(transform.unmapped === "default" ? { default: transform.default } : {}),
        caseInsensitive: transform.caseInsensitive,
      };
  }
}

const UNMAPPED_WIRE: Record<Unmapped, Transform_Map_Unmapped> = {
  error: Transform_Map_Unmapped.ERROR,
  keep: Transform_Map_Unmapped.KEEP,
  default: Transform_Map_Unmapped.DEFAULT,
};

/** The transform as the RPCs take it (`dataexchange.transfer.v1.Transform`). */
export function wireTransformOf(transform: Transform): MessageInitShape<typeof TransformSchema> {
  switch (transform.kind) {
    case "trim":
      return { kind: { case: "trim", value: {} } };
    case "lowercase":
      return { kind: { case: "lowercase", value: {} } };
    case "date":
      return { kind: { case: "date", value: { format: transform.format, timeZone: transform.timeZone.trim() } } };
    case "default":
      return { kind: { case: "default", value: { value: transform.value } } };
    case "template":
      return { kind: { case: "template", value: { value: transform.value } } };
    case "map":
      return {
        kind: {
          case: "map",
          value: {
            values: Object.fromEntries(filledRows(transform.rows).map((r) => [r.from, r.to])),
            unmapped: UNMAPPED_WIRE[transform.unmapped],
            ...(transform.unmapped === "default" ? { defaultValue: transform.default } : {}),
            caseInsensitive: transform.caseInsensitive,
          },
        },
      };
  }
}

/** `list` with the item at `from` moved to `to` (both in range), for reordering. */
export function moved<T>(list: readonly T[], from: number, to: number): T[] {
  const copy = [...list];
  const [item] = copy.splice(from, 1);
  copy.splice(to, 0, item as T);
  return copy;
}
