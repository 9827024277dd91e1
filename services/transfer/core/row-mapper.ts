/**
 * From a row as the plugin read it to a validated record: column → field
 * resolution (by an explicit mapping, or by key or label), mapping transforms,
 * typing with the SDK's `coerceCell`, and the entity's zod rules through
 * `validateRecord`. Every refusal names the file's column and the offending
 * cell, so the report points at something the user can find in the file.
 *
 * A `null` cell (JSON) is no value, the way `formatCell` writes a missing one:
 * a file cannot clear a field by sending null, it leaves the field out.
 */
import { coerceCell, type Column, type ReadHeader, type ReadRow } from "../../../formats/_sdk/index.js";
import { fieldOf, validateRecord, writableFields, type EntitySpec, type FieldSpec, type WriteMode } from "../../domain/index.js";
import { cellOf, keyOf } from "./cell-lookup.js";
import { didYouMean, listNames } from "./column-suggestions.js";
import type { SettingIssue } from "./errors.js";
import { compileMapping, FAILED_ROWS_COLUMNS, type MappingPlan } from "./mapping-plan.js";
import { applyTransforms } from "./transforms.js";
import { parseFlattenedCell } from "./flattened-cells.js";

export type { FieldMapping } from "./mapping-plan.js";

/** One problem with a row, before it is turned into an event. */
export interface RowIssue {
  /** The file's column when known. */
  column?: string;
  /** The entity field (or dotted path) at fault. */
  field?: string;
  reason: string;
}

/** A row that passed every check of the core, ready for the writer. */
export interface MappedRow {
  row: number;
  line?: number;
  record: Record<string, unknown>;
  /** The raw cells, for error reports on this row (absent for rows replayed from staging). */
  raw?: Record<string, unknown>;
}

/** What does not fit in a file's header: the request setting at fault and the file column it is about. */
export interface HeaderIssue extends SettingIssue {
  column?: string;
}

export type MapResult =
  | { ok: true; value: MappedRow }
  /** `fatal`: the file's columns cannot be matched to the entity at all; the import stops. */
  | { ok: false; issues: RowIssue[]; fatal?: boolean };

/** Where a file column's value goes: a field, or a path inside an object field (flattened exports). */
interface Target {
  field: FieldSpec;
  path: string[];
}

export interface RowMapperOptions {
  mode: WriteMode;
  mapping?: import("./mapping-plan.js").FieldMapping[];
  /** Splits flattened column keys (`details.device`) back into paths. Default ".". */
  nestedDelimiter?: string;
  /** Text cells of flattened columns carry their type as JSON (tabular formats: flattened-cells.ts). */
  typedFlattenedText?: boolean;
}

export class RowMapper {
  private readonly plan: MappingPlan | undefined;
  private readonly delimiter: string;
  /** Raw column name → target (null: not a field), resolved once per distinct name. */
  private readonly resolved = new Map<string, Target | null>();
  /** Field key → the file column it came from (the first one seen), for error reports. */
  private readonly columnOfField = new Map<string, string>();
  /** Columns the mapping consumes (sources, ignored ones, template columns), lower-cased: not matched to fields by name. */
  private readonly consumed = new Set<string>();
  /** Mapping sources no record has shown yet (files without a header). */
  private readonly unseen = new Set<string>();
  /** The file's header, once the reader gave it. */
  private names: string[] | undefined;
  private rowsSeen = 0;

  constructor(
    private readonly spec: EntitySpec,
    private readonly options: RowMapperOptions,
  ) {
    this.delimiter = options.nestedDelimiter || ".";
    this.plan = options.mapping === undefined ? undefined : compileMapping(spec, options.mapping);
    for (const m of this.plan?.targets ?? []) if (m.source !== "" && !this.columnOfField.has(m.field.key)) this.columnOfField.set(m.field.key, m.source);
    for (const source of this.plan?.sources ?? []) {
      this.consumed.add(source.trim().toLowerCase());
      this.unseen.add(source);
    }
    for (const m of this.plan?.targets ?? []) for (const c of m.reads) this.consumed.add(c.trim().toLowerCase());
  }

  /**
   * The columns to give the reader: none. Readers could map a header to
   * column keys themselves (the CSV reader does when given columns), but then
   * the file's own column names would be lost, and every report must name
   * the column as the user sees it in the file. The mapper matches keys and
   * labels itself, the same way for every format. (A file without a header
   * names its cells by position, `column_1`…, and needs a mapping.)
   */
  readColumns(): Column[] | undefined {
    return undefined;
  }

  /** The file column a field's value came from, else the field itself. */
  columnFor(field: string): string {
    const top = field.split(".")[0]!;
    const parts = field.includes(",") ? field.split(",") : [top];
    return parts.map((f) => this.columnOfField.get(f) ?? f).join(",");
  }

  /** The file's header (from the reader), if it gave one. */
  get header(): readonly string[] | undefined {
    return this.names;
  }

  /**
   * Checks a file's header before any of its rows: every mapped column (and
   * every column a template reads) must be in it, and every other column must
   * name a field (by key, label or flattened path), be ignored by the mapping,
   * or be one of the failed-rows file's own columns (`_row`, `_line`,
   * `_errors`). Returns what does not fit, all of it; empty when the header is
   * good. Whatever the rows hold, nothing is silently left out.
   */
  checkHeader(header: ReadHeader): HeaderIssue[] {
    const names = header.names;
    this.names = [...names];
    const issues: HeaderIssue[] = [];
    const exact = new Set(names);
    const find = (column: string) => (exact.has(column) ? column : names.find((n) => n.trim().toLowerCase() === column.trim().toLowerCase()));
    const used = new Set<string>();
    const owner = new Map<string, string>();
    for (const m of this.plan?.entries ?? []) {
      // An entry without a source takes its value from its transforms alone (a default, or a template whose columns are checked below).
      const found = m.source === "" ? "" : find(m.source);
      if (found === undefined)
        issues.push({ setting: `mapping[${m.index}].source`, column: m.source, reason: `${JSON.stringify(m.source)} is not a column of the file${didYouMean(m.source, names)}` });
      else if (found !== "") {
        used.add(found);
        m.source = found;
        this.unseen.delete(m.original);
      }
      for (const column of m.reads) {
        if (exact.has(column)) used.add(column);
        else
          issues.push({
            setting: `mapping[${m.index}].transforms`,
            column,
            reason: `the template reads column ${JSON.stringify(column)}, which is not a column of the file${didYouMean(column, names)}`,
          });
      }
      if (m.field !== undefined) owner.set(m.field.key, `mapping[${m.index}] (${m.source === "" ? "its transforms" : `column ${JSON.stringify(m.source)}`})`);
    }
    for (const m of this.plan?.targets ?? []) if (m.source !== "") this.columnOfField.set(m.field.key, m.source);
    const unknown: string[] = [];
    for (const name of names) {
      if (used.has(name) || (FAILED_ROWS_COLUMNS as readonly string[]).includes(name)) continue;
      const target = this.resolve(name);
      if (target === null) {
        unknown.push(name);
        continue;
      }
      if (target.field.readOnly || target.path.length > 0) continue;
      const other = owner.get(target.field.key);
      if (other !== undefined) {
        issues.push({
          setting: "file",
          column: name,
          reason: `column ${JSON.stringify(name)} gives ${target.field.key}, which ${other} gives too; map one of them elsewhere or ignore it (${JSON.stringify({ source: name, ignore: true })})`,
        });
      } else owner.set(target.field.key, `column ${JSON.stringify(name)}`);
    }
    if (unknown.length > 0 && !this.plan?.ignoreRest) {
      const fields = writableFields(this.spec).flatMap((f) => [f.key, f.label]);
      const each = unknown.map((c) => `${JSON.stringify(c)}${didYouMean(c, fields)}`).join(", ");
      issues.push({
        setting: "file",
        column: unknown.join(","),
        reason: `unknown column${unknown.length > 1 ? "s" : ""} ${each}: not a field key or label of ${this.spec.name}${this.plan ? ", and not in the mapping" : ""}; map ${unknown.length > 1 ? "them" : "it"} to a field, or leave ${unknown.length > 1 ? "them" : "it"} out with a mapping entry such as ${JSON.stringify({ source: unknown[0], ignore: true })} (${JSON.stringify({ source: "*", ignore: true })} for every such column)`,
      });
    }
    return issues;
  }

  /** Mapping sources that no record has had so far (files without a header), in mapping order. */
  unseenSources(): string[] {
    return [...this.unseen];
  }

  /** The file's columns and the entity's fields, for the end of a refusal message. */
  describeColumns(): string {
    const fields = writableFields(this.spec).map((f) => (f.label.toLowerCase() === f.key.toLowerCase() ? f.key : `${f.key} (${f.label})`));
    return `${this.names ? `the file's columns: ${listNames(this.names)}; ` : ""}the fields of ${this.spec.name}: ${fields.join(", ")}`;
  }

  /** Maps, types and validates one row. */
  map(row: ReadRow): MapResult {
    const first = this.rowsSeen++ === 0;
    const issues: RowIssue[] = [];
    if (this.unseen.size > 0 && this.names === undefined) this.noteSources(row.values);
    const input: Record<string, unknown> = {};
    if (this.plan !== undefined) this.fromMapping(row.values, input, issues, row.numberText);
    if (!this.fromColumns(row.values, input, issues, first && this.names === undefined, row.numberText)) return { ok: false, issues, fatal: true };
    if (issues.length > 0) return { ok: false, issues };
    const result = validateRecord(this.spec, input, { completeness: this.options.mode === "merge" ? "partial" : "full", rejectUnknown: true });
    if (!result.ok) {
      return { ok: false, issues: result.issues.map((i) => (i.field === "" ? { reason: i.reason } : { field: i.field, column: this.columnFor(i.field), reason: i.reason })) };
    }
    return { ok: true, value: { row: row.row, line: row.line, record: result.value, raw: row.values } };
  }

  private noteSources(values: Record<string, unknown>): void {
    for (const source of this.unseen) if (cellOf(values, source) !== undefined) this.unseen.delete(source);
  }

  private fromMapping(values: Record<string, unknown>, input: Record<string, unknown>, issues: RowIssue[], numberText: Record<string, string> | undefined): void {
    // A template prints the numbers it reads as the file wrote them, not as String() of the double.
    const row = numberText === undefined ? values : { ...values, ...numberText };
    for (const m of this.plan!.targets) {
      let cell = m.source === "" ? undefined : cellOf(values, m.source);
      if (numberText !== undefined && typeof cell === "number") cell = asWritten(cell, m.field, numberText, keyOf(values, m.source));
      const transformed = applyTransforms(cell, m.transforms, row);
      if (!transformed.ok) {
        issues.push({ column: m.source || m.field.key, field: m.field.key, reason: transformed.reason });
        continue;
      }
      this.setTyped(input, m.field, transformed.value, m.source || m.field.key, issues);
    }
  }

  /**
   * The columns the mapping does not consume, matched to fields by key, label
   * or flattened path. False when the file's columns do not fit the entity
   * (`fatal`: unknown columns on the first row of a file without a header;
   * a file with a header was checked whole by {@link checkHeader}).
   */
  private fromColumns(values: Record<string, unknown>, input: Record<string, unknown>, issues: RowIssue[], fatal: boolean, numberText: Record<string, string> | undefined): boolean {
    const unknown: string[] = [];
    for (const column in values) {
      if (this.consumed.size > 0 && this.consumed.has(column.trim().toLowerCase())) continue;
      if ((FAILED_ROWS_COLUMNS as readonly string[]).includes(column)) continue;
      const target = this.resolve(column);
      if (target === null) {
        unknown.push(column);
        continue;
      }
      if (target.field.readOnly) continue; // joined or server-assigned: re-importing an export must not fail on them
      const value = values[column];
      if (target.path.length === 0) {
        this.setTyped(input, target.field, numberText === undefined ? value : asWritten(value, target.field, numberText, column), column, issues);
        continue;
      }
      if (value === undefined || value === null) continue;
      const parent = input[target.field.key];
      if (parent !== undefined && (typeof parent !== "object" || parent === null || Array.isArray(parent))) {
        issues.push({ column, field: target.field.key, reason: `conflicts with the ${target.field.key} column` });
        continue;
      }
      // Text cells of flattened columns carry their type (flattened-cells.ts); a document format's values already have theirs.
      const cell = typeof value === "string" && this.options.typedFlattenedText ? parseFlattenedCell(value) : { ok: true as const, value };
      if (!cell.ok) {
        issues.push({ column, field: target.field.key, reason: cell.reason });
        continue;
      }
      if (!setPath((input[target.field.key] ??= {}) as Record<string, unknown>, target.path, cell.value)) {
        issues.push({ column, field: target.field.key, reason: `gives ${target.field.key}.${target.path.join(".")} a second value` });
      }
    }
    if (unknown.length > 0 && !this.plan?.ignoreRest) {
      const reason = `unknown column${unknown.length > 1 ? "s" : ""} ${unknown.map((c) => JSON.stringify(c)).join(", ")}: not a field key or label of ${this.spec.name}`;
      issues.push({ column: unknown.join(","), reason });
      if (fatal) return false;
    }
    return true;
  }

  private setTyped(input: Record<string, unknown>, field: FieldSpec, value: unknown, column: string, issues: RowIssue[]): void {
    if (value === undefined || value === null) return; // no value: stays missing
    const typed = coerceCell(value, field.type);
    if (!typed.ok) issues.push({ column, field: field.key, reason: typed.reason });
    else if (typed.value !== undefined) {
      const existing = input[field.key];
      if (field.type === "object" && isObject(existing) && isObject(typed.value)) {
        // The object's own column after flattened ones (details.device, then details): one object, no key given twice.
        for (const [k, v] of Object.entries(typed.value)) {
          if (Object.hasOwn(existing, k)) issues.push({ column, field: field.key, reason: `gives ${field.key}.${k} a second value` });
          else Object.defineProperty(existing, k, { value: v, enumerable: true, writable: true, configurable: true });
        }
      } else if (field.key in input) issues.push({ column, field: field.key, reason: `gives ${field.key} a second value` });
      else input[field.key] = field.type === "object" && isObject(typed.value) ? { ...typed.value } : typed.value;
    }
  }

  private resolve(column: string): Target | null {
    let target = this.resolved.get(column);
    if (target !== undefined) return target;
    target = resolveColumn(this.spec, column, this.delimiter);
    this.resolved.set(column, target);
    if (target !== null && !this.columnOfField.has(target.field.key)) this.columnOfField.set(target.field.key, column);
    return target;
  }
}

/**
 * A number bound for a text field as the file wrote it, when the reader noted
 * that `String()` of the double would be other text (`ReadRow.numberText`:
 * JSON's `1.50`, `1e21`, `-0`, `12345678901234567890`), so the text stored is
 * the text in the file. Any other value, and any number bound for a field of
 * another type, passes as it is: a number column still gets the number.
 */
function asWritten(value: unknown, field: FieldSpec, numberText: Record<string, string>, key: string | undefined): unknown {
  if (field.type !== "string" || typeof value !== "number" || key === undefined || !Object.hasOwn(numberText, key)) return value;
  return numberText[key];
}

/** Path segments that would reach an object's prototype instead of a property of its own. */
const UNSAFE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** A column names a field by key, else by key or label ignoring case, else by a flattened path into an object field. */
function resolveColumn(spec: EntitySpec, column: string, delimiter: string): Target | null {
  const exact = fieldOf(spec, column);
  if (exact) return { field: exact, path: [] };
  const name = column.trim().toLowerCase();
  const byName = spec.fields.find((f) => f.key.toLowerCase() === name) ?? spec.fields.find((f) => f.label.trim().toLowerCase() === name);
  if (byName) return { field: byName, path: [] };
  const parts = column.split(delimiter);
  if (parts.length > 1 && parts.every((p) => p !== "" && !UNSAFE_KEYS.has(p))) {
    const parent = resolveColumn(spec, parts[0]!, delimiter);
    if (parent !== null && parent.path.length === 0 && parent.field.type === "object") return { field: parent.field, path: parts.slice(1) };
  }
  return null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Sets a nested value; false when the place already holds one (from the object's own column, or another flattened one). */
function setPath(target: Record<string, unknown>, path: string[], value: unknown): boolean {
  let node = target;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    node = (typeof next === "object" && next !== null && !Array.isArray(next) ? next : (node[part] = {})) as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (Object.hasOwn(node, last)) return false;
  node[last] = value;
  return true;
}
