/**
 * Turns problems with one row into `row_error` events the user can act on:
 * the row and line, the column as named in the file, the offending value
 * (clipped), a reason, a code. And the one rule reports must never break: a
 * write-only value (a password) is masked as the value and removed from any
 * reason text, whoever produced the reason (a plugin, zod, the records service).
 * Personal values (emails, names) stay — the uploader sent them — but each
 * event lists the ones it shows, so that the job's views can withhold them
 * from readers without `pii`.
 */
import { cellOf } from "./cell-lookup.js";
import type { EntitySpec, RowErrorCode } from "../../domain/index.js";
import { displayValue, MASK, redact, type FailedRowEvent, type RowErrorEvent } from "./import-events.js";
import type { MappedRow, RowIssue, RowMapper } from "./row-mapper.js";

export class RowReporter {
  private readonly secretFields: string[];
  private readonly personalFields: string[];
  /** Lower-cased keys and labels of write-only fields: columns by those names hold secrets. */
  private readonly secretNames: Set<string>;

  constructor(
    spec: EntitySpec,
    private readonly mapper: RowMapper,
  ) {
    this.secretFields = spec.fields.filter((f) => f.writeOnly).map((f) => f.key);
    this.personalFields = spec.fields.filter((f) => f.personal).map((f) => f.key);
    this.secretNames = new Set(spec.fields.filter((f) => f.writeOnly).flatMap((f) => [f.key.toLowerCase(), f.label.trim().toLowerCase()]));
  }

  /**
   * The rejected row for the failed-rows file: its cells as read, except
   * write-only ones (a password), which are withheld — never stored in clear
   * — and named in `withheld`, so the file can say so.
   */
  failedRow(row: number, line: number | undefined, values: Record<string, unknown> | undefined, events: RowErrorEvent[]): FailedRowEvent {
    const out: FailedRowEvent = { kind: "failed_row", row, errors: events.map((e) => (e.column ? `${e.column}: ${e.reason}` : e.reason)) };
    if (line !== undefined) out.line = line;
    const personal = new Set(events.flatMap((e) => e.personal ?? []));
    if (values !== undefined) for (const v of this.valuesOf({ row, record: {}, raw: values }, this.personalFields)) personal.add(v);
    if (personal.size > 0) out.personal = [...personal];
    if (values === undefined) return out;
    if (this.secretFields.length === 0) {
      out.values = values;
      return out;
    }
    const secretColumns = new Set(this.secretFields.map((f) => this.mapper.columnFor(f)));
    const kept: Record<string, unknown> = {};
    const withheld: string[] = [];
    for (const key of Object.keys(values)) {
      if (secretColumns.has(key) || this.secretNames.has(key.trim().toLowerCase())) {
        if (values[key] !== undefined && values[key] !== "") withheld.push(key);
        continue;
      }
      // An own "__proto__" key (JSON.parse makes those) must stay a value, not become the object's prototype.
      Object.defineProperty(kept, key, { value: values[key], enumerable: true, writable: true, configurable: true });
    }
    out.values = kept;
    if (withheld.length > 0) out.withheld = withheld;
    return out;
  }

  /** One row_error per issue, with the file's column, the clipped value, no secret in sight, and the personal values it shows. */
  issueEvents(row: MappedRow, issues: RowIssue[], code: RowErrorCode): RowErrorEvent[] {
    const secrets = this.secretsOf(row);
    const personal = this.valuesOf(row, this.personalFields);
    return issues.map((issue) => {
      const e = event({ row: row.row, line: row.line, column: issue.column, reason: redact(issue.reason, secrets), code });
      const value = this.valueOf(row, issue.field, issue.column);
      if (value !== undefined) e.value = secrets.length > 0 ? redact(value, secrets) : value;
      const shown = personal.filter((p) => e.reason.includes(p) || e.value?.includes(p));
      // The value of a personal column is personal whatever it is (an email cell holding "n/a" too).
      if (e.value !== undefined && this.involves(this.personalFields, issue.field, issue.column)) shown.push(e.value);
      if (shown.length > 0) e.personal = [...new Set(shown)];
      return e;
    });
  }

  /** Whether the issue's field(s) or column(s) include one of `fields`. */
  private involves(fields: readonly string[], field: string | undefined, column: string | undefined): boolean {
    const keys = field === undefined ? [] : field.split(",").map((f) => f.split(".")[0]!);
    const columns = column === undefined ? [] : column.split(",");
    return keys.some((f) => fields.includes(f)) || columns.some((c) => fields.some((f) => this.mapper.columnFor(f) === c));
  }

  /**
   * The offending value: the file's cell(s) when the column is known, else the
   * validated value of the field(s); masked when a write-only field is involved.
   */
  private valueOf(row: MappedRow, field: string | undefined, column: string | undefined): string | undefined {
    const fields = field === undefined ? [] : field.split(",").map((f) => f.split(".")[0]!);
    const columns = column === undefined ? [] : column.split(",");
    if (this.involves(this.secretFields, field, column)) return MASK;
    const parts = columns.length > 0 && row.raw !== undefined ? columns.map((c) => cellOf(row.raw!, c)) : fields.map((f) => row.record[f]);
    if (parts.every((p) => p === undefined)) return undefined;
    return parts.length === 1 ? displayValue(parts[0]) : displayValue(parts.map((p) => displayValue(p) ?? "").join(","));
  }

  /** The row's write-only values, raw and validated, for redaction. */
  private secretsOf(row: MappedRow): string[] {
    return this.valuesOf(row, this.secretFields);
  }

  /** The row's values of `fields`, raw (as in the file) and validated. */
  private valuesOf(row: MappedRow, fields: readonly string[]): string[] {
    const values: string[] = [];
    for (const field of fields) {
      for (const v of [row.record[field], row.raw?.[this.mapper.columnFor(field)], row.raw?.[field]]) {
        if (typeof v === "string" && v !== "") values.push(v);
      }
    }
    return values;
  }
}

/** A cell by column name: exact, else ignoring case and surrounding spaces (mapping sources match that way). */
export function event(e: Omit<RowErrorEvent, "kind">): RowErrorEvent {
  const out: RowErrorEvent = { kind: "row_error", row: e.row, reason: e.reason, code: e.code };
  if (e.line !== undefined) out.line = e.line;
  if (e.column !== undefined) out.column = e.column;
  if (e.value !== undefined) out.value = e.value;
  if (e.personal !== undefined) out.personal = e.personal;
  return out;
}
