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
import { coerceCell, type Column, type ReadRow } from "../../../formats/_sdk/index.js";
import { fieldOf, validateRecord, type EntitySpec, type FieldSpec } from "../../domain/index.js";
import { TransferSettingsError, type SettingIssue } from "./errors.js";
import type { ImportMode } from "./import-pipeline.js";
import { applyTransforms, compileTransform, type CompiledTransform, type Transform } from "./transforms.js";

export interface FieldMapping {
  /** Column in the file (matched exactly, then ignoring case and surrounding spaces). */
  source: string;
  /** Entity field key. */
  field: string;
  transforms?: Transform[];
}

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

export type MapResult =
  | { ok: true; value: MappedRow }
  /** `fatal`: the file's columns cannot be matched to the entity at all; the import stops. */
  | { ok: false; issues: RowIssue[]; fatal?: boolean };

/** Where a file column's value goes: a field, or a path inside an object field (flattened exports). */
interface Target {
  field: FieldSpec;
  path: string[];
}

interface MappedTarget {
  source: string;
  field: FieldSpec;
  transforms: CompiledTransform[];
}

export interface RowMapperOptions {
  mode: ImportMode;
  mapping?: FieldMapping[];
  /** Splits flattened column keys (`details.device`) back into paths. Default ".". */
  nestedDelimiter?: string;
}

export class RowMapper {
  private readonly mapped: MappedTarget[] | undefined;
  private readonly delimiter: string;
  /** Raw column name → target (null: not a field), resolved once per distinct name. */
  private readonly resolved = new Map<string, Target | null>();
  /** Field key → the file column it came from (the first one seen), for error reports. */
  private readonly columnOfField = new Map<string, string>();
  private rowsSeen = 0;

  constructor(
    private readonly spec: EntitySpec,
    private readonly options: RowMapperOptions,
  ) {
    this.delimiter = options.nestedDelimiter || ".";
    this.mapped = options.mapping === undefined ? undefined : compileMapping(spec, options.mapping);
    for (const m of this.mapped ?? []) if (!this.columnOfField.has(m.field.key)) this.columnOfField.set(m.field.key, m.source);
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

  /** Maps, types and validates one row. */
  map(row: ReadRow): MapResult {
    const first = this.rowsSeen++ === 0;
    const issues: RowIssue[] = [];
    const input = this.mapped !== undefined ? this.fromMapping(row.values, issues) : this.fromColumns(row.values, issues, first);
    if (input === undefined) return { ok: false, issues, fatal: true };
    if (issues.length > 0) return { ok: false, issues };
    const result = validateRecord(this.spec, input, { completeness: this.options.mode === "merge" ? "partial" : "full", rejectUnknown: true });
    if (!result.ok) {
      return { ok: false, issues: result.issues.map((i) => (i.field === "" ? { reason: i.reason } : { field: i.field, column: this.columnFor(i.field), reason: i.reason })) };
    }
    return { ok: true, value: { row: row.row, line: row.line, record: result.value, raw: row.values } };
  }

  private fromMapping(values: Record<string, unknown>, issues: RowIssue[]): Record<string, unknown> {
    const input: Record<string, unknown> = {};
    for (const m of this.mapped!) {
      const transformed = applyTransforms(lookup(values, m.source), m.transforms, values);
      if (!transformed.ok) {
        issues.push({ column: m.source, field: m.field.key, reason: transformed.reason });
        continue;
      }
      this.setTyped(input, m.field, transformed.value, m.source, issues);
    }
    return input;
  }

  /** Undefined when the file's columns do not fit the entity (the first row shows unknown columns). */
  private fromColumns(values: Record<string, unknown>, issues: RowIssue[], first: boolean): Record<string, unknown> | undefined {
    const input: Record<string, unknown> = {};
    const unknown: string[] = [];
    for (const column in values) {
      const target = this.resolve(column);
      if (target === null) {
        unknown.push(column);
        continue;
      }
      if (target.field.readOnly) continue; // joined or server-assigned: re-importing an export must not fail on them
      const value = values[column];
      if (target.path.length === 0) {
        this.setTyped(input, target.field, value, column, issues);
        continue;
      }
      if (value === undefined || value === null) continue;
      const parent = input[target.field.key];
      if (parent !== undefined && (typeof parent !== "object" || parent === null || Array.isArray(parent))) {
        issues.push({ column, field: target.field.key, reason: `conflicts with the ${target.field.key} column` });
        continue;
      }
      setPath((input[target.field.key] ??= {}) as Record<string, unknown>, target.path, value);
    }
    if (unknown.length > 0) {
      const reason = `unknown column${unknown.length > 1 ? "s" : ""} ${unknown.map((c) => JSON.stringify(c)).join(", ")}: not a field key or label of ${this.spec.name}`;
      if (first) {
        issues.push({ column: unknown.join(","), reason });
        return undefined;
      }
      issues.push({ column: unknown.join(","), reason });
    }
    return input;
  }

  private setTyped(input: Record<string, unknown>, field: FieldSpec, value: unknown, column: string, issues: RowIssue[]): void {
    if (value === undefined || value === null) return; // no value: stays missing
    const typed = coerceCell(value, field.type);
    if (!typed.ok) issues.push({ column, field: field.key, reason: typed.reason });
    else if (typed.value !== undefined) {
      if (field.key in input) issues.push({ column, field: field.key, reason: `gives ${field.key} a second value` });
      else input[field.key] = typed.value;
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

function lookup(values: Record<string, unknown>, source: string): unknown {
  if (source in values) return values[source];
  const name = source.trim().toLowerCase();
  for (const key in values) if (key.trim().toLowerCase() === name) return values[key];
  return undefined;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    node = (typeof next === "object" && next !== null && !Array.isArray(next) ? next : (node[part] = {})) as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/** Checks a mapping against the entity before any byte is read. */
function compileMapping(spec: EntitySpec, mapping: FieldMapping[]): MappedTarget[] {
  const issues: SettingIssue[] = [];
  const targets: MappedTarget[] = [];
  const used = new Set<string>();
  mapping.forEach((m, i) => {
    const setting = `mapping[${i}]`;
    if (typeof m?.source !== "string" || m.source === "") issues.push({ setting: `${setting}.source`, reason: "must name a column of the file" });
    const field = typeof m?.field === "string" ? fieldOf(spec, m.field) : undefined;
    if (field === undefined) return issues.push({ setting: `${setting}.field`, reason: `${JSON.stringify(m?.field)} is not a field of ${spec.name}` });
    if (field.readOnly) return issues.push({ setting: `${setting}.field`, reason: `${field.key} is read-only: it is set by the server` });
    if (used.has(field.key)) return issues.push({ setting: `${setting}.field`, reason: `${field.key} is mapped twice` });
    used.add(field.key);
    const transforms: CompiledTransform[] = [];
    (m.transforms ?? []).forEach((t, j) => {
      try {
        transforms.push(compileTransform(t, `${setting}.transforms[${j}]`));
      } catch (err) {
        if (!(err instanceof TransferSettingsError)) throw err;
        issues.push(...err.issues);
      }
    });
    targets.push({ source: m.source, field, transforms });
  });
  if (mapping.length === 0) issues.push({ setting: "mapping", reason: "maps no column; leave it out to match columns by key or label" });
  if (issues.length > 0) {
    throw new TransferSettingsError(`invalid mapping for ${spec.name}: ${issues.map((i) => `${i.setting} ${i.reason}`).join("; ")}`, issues);
  }
  return targets;
}
