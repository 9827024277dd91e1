/**
 * Which columns an export has, and how a record becomes a row for the format.
 * By default a tabular export has one column per field, and an object field
 * (an activity's details, whose keys vary from record to record and are known
 * only once every record has been read) is one column of JSON text, which
 * reads back exactly.
 *
 * The column metadata is the core's (Moodle dataformat style): every column
 * has a stable key and a human label, and the plugin prints one or the other
 * according to its audience. Selecting a nested path (`details.device`) gives
 * a tabular format its own `details.device` column (joined with the job's
 * nested delimiter), while a document format keeps the nesting and receives a
 * `details` object pruned to the selected paths. Write-only fields (passwords)
 * are never columns, whatever the selection says.
 */
import { formatCell, isScalar, type CellValue, type Column, type FieldType, type FormatPlugin, type Row } from "../../../formats/_sdk/index.js";
import { defaultReadFields, fieldOf, type EntitySpec } from "../../domain/index.js";
import { TransferSettingsError, type SettingIssue } from "./errors.js";
import { flattenedCell } from "./flattened-cells.js";

/** Path segments that would reach an object's prototype instead of a property of its own. */
const UNSAFE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** What column planning needs from the export settings. */
export interface ColumnSettings {
  plugin: Pick<FormatPlugin, "shape" | "audience" | "name">;
  entity: EntitySpec;
  /** Selection and order of columns, as field keys or dotted paths into object fields; default: every readable field the records hold themselves (joined fields only when named). */
  fields?: string[];
  /** Custom labels by selected path (or column key). */
  labels?: Record<string, string>;
  nestedDelimiter: string;
}

/** One selected column and where its value comes from. */
export interface ColumnPlan {
  column: Column;
  /** The field key holding the value. */
  field: string;
  /** For a tabular column: the path into the record. For a document column: the sub-paths kept inside the field (empty = all of it). */
  paths: string[][];
}

/** The paths an export selects: those asked for, else the entity's default read (joined fields only when named). */
function selectedPaths(settings: ColumnSettings): string[] {
  return settings.fields?.length ? settings.fields : defaultReadFields(settings.entity).map((f) => f.key);
}

/** Plans the columns of an export; unknown fields and bad paths are a settings error naming them. */
export function planColumns(settings: ColumnSettings): ColumnPlan[] {
  const { entity, plugin, labels = {} } = settings;
  const delimiter = settings.nestedDelimiter === "" ? "." : settings.nestedDelimiter;
  const selection = selectedPaths(settings);
  const issues: SettingIssue[] = [];
  const plans: ColumnPlan[] = [];
  const byKey = new Map<string, ColumnPlan>();
  selection.forEach((selected, index) => {
    const path = selected.split(".");
    const top = path[0]!;
    const field = fieldOf(entity, top);
    const setting = `fields[${index}]`;
    if (field === undefined) return issues.push({ setting, reason: `${JSON.stringify(selected)} is not a field of ${entity.name}` });
    // Never exported; asked for by name, it is refused rather than left out of the file without a word.
    if (field.writeOnly) return issues.push({ setting, reason: `${JSON.stringify(selected)} is write-only (${entity.name} keep it only as a hash): it is never exported` });
    if (path.length > 1 && field.type !== "object") {
      return issues.push({ setting, reason: `${JSON.stringify(selected)}: ${top} is not an object, so it has no nested fields` });
    }
    if (path.some((p) => p === "" || UNSAFE_KEYS.has(p))) return issues.push({ setting, reason: `${JSON.stringify(selected)} has an empty or reserved path segment` });
    if (plugin.shape === "document") {
      const existing = byKey.get(top);
      if (existing !== undefined) {
        if (path.length === 1 || existing.paths.length === 0) existing.paths = [];
        else existing.paths.push(path.slice(1));
        return;
      }
      const plan: ColumnPlan = {
        column: { key: top, label: labels[selected] ?? labels[top] ?? field.label, type: field.type },
        field: top,
        paths: path.length === 1 ? [] : [path.slice(1)],
      };
      byKey.set(top, plan);
      plans.push(plan);
      return;
    }
    const key = path.join(delimiter);
    if (byKey.has(key)) return issues.push({ setting, reason: `${JSON.stringify(selected)} is selected twice` });
    const label = labels[selected] ?? labels[key] ?? (path.length === 1 ? field.label : [field.label, ...path.slice(1)].join(delimiter));
    const type: FieldType = path.length === 1 ? field.type : "string";
    const plan: ColumnPlan = { column: { key, label, type }, field: top, paths: [path] };
    byKey.set(key, plan);
    plans.push(plan);
  });
  if (issues.length > 0) {
    throw new TransferSettingsError(`cannot export ${entity.name}: ${issues.map((i) => `${i.setting} ${i.reason}`).join("; ")}`, issues);
  }
  if (plans.length === 0) {
    throw new TransferSettingsError(`cannot export ${entity.name}: no exportable field is selected`, [{ setting: "fields", reason: "selects no exportable field" }]);
  }
  return plans;
}

/**
 * Refuses labels that name no column of the export (`labels={"emial": "Mail"}`):
 * a label is looked up by the selected path or by the column's key, and one
 * that matches neither would be ignored without a word.
 */
export function checkLabels(settings: ColumnSettings): void {
  const labels = Object.keys(settings.labels ?? {});
  if (labels.length === 0) return;
  const plans = planColumns(settings);
  const selection = selectedPaths(settings);
  const usable = new Set([...selection, ...plans.map((p) => p.column.key)]);
  const unused = labels.filter((label) => !usable.has(label));
  if (unused.length === 0) return;
  const columns = plans.map((p) => p.column.key).join(", ");
  throw new TransferSettingsError(
    `labels name ${unused.length === 1 ? "a column" : "columns"} this export does not have: ${unused.map((l) => JSON.stringify(l)).join(", ")}; its columns are ${columns}`,
    unused.map((label) => ({ setting: `labels.${label}`, reason: "is not a column of this export" })),
  );
}

/**
 * Turns one record into the row a plugin of the given shape receives:
 * flat scalars (nested values as JSON text) for tabular plugins, nested values
 * for document plugins. Only the planned columns are copied, so a stray field
 * on the record (a password hash, a joined value) can never reach a file.
 */
export function recordToRow(record: Record<string, unknown>, plans: ColumnPlan[], shape: "tabular" | "document"): Row {
  const row: Row = {};
  for (const plan of plans) {
    const key = plan.column.key;
    if (shape === "tabular") {
      const path = plan.paths[0]!;
      const value = getPath(record, path) as CellValue;
      // A path into a free-form object: the cell carries its value's type (flattened-cells.ts).
      row[key] = path.length > 1 ? flattenedCell(value) : isScalar(value) ? value : formatCell(value, plan.column.type);
      continue;
    }
    const value = record[plan.field] as CellValue;
    row[key] = plan.paths.length === 0 ? value : prune(value, plan.paths);
  }
  return row;
}

function getPath(record: Record<string, unknown>, path: string[]): unknown {
  let value: unknown = record;
  for (const part of path) {
    if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Date) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** A copy of `value` holding only the given sub-paths; undefined when none of them is present. */
function prune(value: CellValue, paths: string[][]): CellValue {
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Date) return undefined;
  let out: Record<string, CellValue> | undefined;
  for (const path of paths) {
    const found = getPath(value, path);
    if (found === undefined) continue;
    out ??= {};
    let target = out;
    for (const part of path.slice(0, -1)) {
      const next = target[part];
      target = (typeof next === "object" && next !== null && !Array.isArray(next) && !(next instanceof Date) ? next : (target[part] = {})) as Record<string, CellValue>;
    }
    target[path[path.length - 1]!] = found as CellValue;
  }
  return out;
}
