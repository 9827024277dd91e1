/**
 * An import's field mapping, checked against the entity before any byte is
 * read: each entry maps one file column to one field (with transforms), or
 * says the column is left out on purpose (`ignore`), so that a file with
 * columns the entity does not have (Canvas' `full_name`, `sortable_name`, …)
 * imports only after the user has said so, instead of those cells being
 * dropped silently.
 */
import { fieldOf, type EntitySpec, type FieldSpec } from "../../domain/index.js";
import { TransferSettingsError, type SettingIssue } from "./errors.js";
import { columnsReadBy, compileTransform, type CompiledTransform, type Transform } from "./transforms.js";

export interface FieldMapping {
  /**
   * Column in the file (matched exactly, then ignoring case and surrounding
   * spaces). Empty or absent: no column, the value comes from the transforms
   * (a `default` or a `template`). `"*"` with `ignore`: every column that is
   * neither mapped nor a field is left out.
   */
  source?: string;
  /** Entity field key; absent when `ignore` is set. */
  field?: string;
  /** The column is in the file and is left out on purpose. */
  ignore?: boolean;
  transforms?: Transform[];
}

/** The `source` of a mapping entry that ignores every column not otherwise mapped or known. */
export const EVERY_OTHER_COLUMN = "*";

/**
 * The columns a failed-rows file adds to the file's own (`_row`, `_line`,
 * `_errors`): an import reads past them, so that the file can be uploaded
 * again once its cells are fixed.
 */
export const FAILED_ROWS_COLUMNS = ["_row", "_line", "_errors"] as const;

/** One mapping entry, as checked. `source` becomes the header's own spelling once the header is known. */
export interface MappingEntry {
  index: number;
  /** The file column; "" for a value built by the transforms alone. Becomes the header's own spelling once the header is known. */
  source: string;
  /** The source as the request gave it. */
  original: string;
  /** Absent for an ignored column. */
  field?: FieldSpec;
  transforms: CompiledTransform[];
  /** Other file columns the transforms read (template placeholders). */
  reads: string[];
}

export interface MappingPlan {
  entries: MappingEntry[];
  /** The entries that give a field. */
  targets: (MappingEntry & { field: FieldSpec })[];
  /** Every file column named as a source, mapped or ignored (not "*", not ""). */
  sources: string[];
  /** `{"source": "*", "ignore": true}`: columns that are neither mapped nor fields are left out. */
  ignoreRest: boolean;
}

/** Checks a mapping against the entity before any byte is read; every problem is named in one settings error. */
export function compileMapping(spec: EntitySpec, mapping: FieldMapping[]): MappingPlan {
  const issues: SettingIssue[] = [];
  const entries: MappingEntry[] = [];
  const used = new Set<string>();
  const mapped = new Set<string>();
  const ignored = new Set<string>();
  let ignoreRest = false;
  mapping.forEach((m, i) => {
    const setting = `mapping[${i}]`;
    const source = typeof m?.source === "string" ? m.source : "";
    const key = source.trim().toLowerCase();
    if (m?.ignore === true) {
      if (m.field !== undefined && m.field !== "") return issues.push({ setting: `${setting}.field`, reason: "an ignored column gives no field: leave field out, or ignore out" });
      if ((m.transforms ?? []).length > 0) return issues.push({ setting: `${setting}.transforms`, reason: "an ignored column has no transforms" });
      if (source === "")
        return issues.push({ setting: `${setting}.source`, reason: `must name the column to ignore (or "${EVERY_OTHER_COLUMN}" for every column that is neither mapped nor a field)` });
      if (source === EVERY_OTHER_COLUMN) {
        ignoreRest = true;
        return;
      }
      if (mapped.has(key)) return issues.push({ setting: `${setting}.source`, reason: `${JSON.stringify(source)} is both mapped and ignored` });
      if (ignored.has(key)) return issues.push({ setting: `${setting}.source`, reason: `${JSON.stringify(source)} is ignored twice` });
      ignored.add(key);
      entries.push({ index: i, source, original: source, transforms: [], reads: [] });
      return;
    }
    if (source === EVERY_OTHER_COLUMN) return issues.push({ setting: `${setting}.source`, reason: `"${EVERY_OTHER_COLUMN}" only goes with "ignore": true` });
    if (ignored.has(key) && key !== "") return issues.push({ setting: `${setting}.source`, reason: `${JSON.stringify(source)} is both mapped and ignored` });
    const field = typeof m?.field === "string" ? fieldOf(spec, m.field) : undefined;
    if (field === undefined)
      return issues.push({
        setting: `${setting}.field`,
        reason: m?.field === undefined || m.field === "" ? `names no field (give one, or "ignore": true)` : `${JSON.stringify(m?.field)} is not a field of ${spec.name}`,
      });
    if (field.readOnly) return issues.push({ setting: `${setting}.field`, reason: `${field.key} is read-only: it is set by the server` });
    if (used.has(field.key)) return issues.push({ setting: `${setting}.field`, reason: `${field.key} is mapped twice` });
    used.add(field.key);
    if (source === "" && !(m.transforms ?? []).some((t) => t?.kind === "default" || t?.kind === "template")) {
      return issues.push({ setting: `${setting}.source`, reason: "must name a column of the file (a mapping without one needs a default or template transform to give the value)" });
    }
    if (key !== "") mapped.add(key);
    const transforms: CompiledTransform[] = [];
    (m.transforms ?? []).forEach((t, j) => {
      try {
        transforms.push(compileTransform(t, `${setting}.transforms[${j}]`));
      } catch (err) {
        if (!(err instanceof TransferSettingsError)) throw err;
        issues.push(...err.issues);
      }
    });
    entries.push({ index: i, source, original: source, field, transforms, reads: columnsReadBy(m.transforms) });
  });
  if (mapping.length === 0) issues.push({ setting: "mapping", reason: "maps no column; leave it out to match columns by key or label" });
  if (issues.length > 0) {
    throw new TransferSettingsError(`invalid mapping for ${spec.name}: ${issues.map((i) => `${i.setting} ${i.reason}`).join("; ")}`, issues);
  }
  const targets = entries.filter((e): e is MappingEntry & { field: FieldSpec } => e.field !== undefined);
  return { entries, targets, sources: [...new Set(entries.map((e) => e.source).filter((s) => s !== ""))], ignoreRest };
}
