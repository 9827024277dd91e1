/**
 * PreviewImport: what importing a file would do to its first rows, without a
 * job and without writing — the confirm page of django-import-export and
 * Moodle's upload preview, with the stored values each row would change.
 *
 * The rows go through what an import does to them: the format's reader (the
 * format chosen from the bytes when none is named), the header check, the
 * mapping, transforms and validation (core's RowMapper), the in-file key
 * check, and a dry run at the records service of each row on its own (which
 * finds existing keys in insert mode, missing references, unique values
 * taken, and says inserted / updated / unchanged / skipped exactly as an
 * import would). The records stored under the rows' keys are then read to
 * show an update's fields, before and after. Readers without `pii` see
 * stored personal values as withheld; the file's own values are the caller's.
 */
import type { EntitySpec, RowError, WriteMode } from "../../domain/index.js";
import { Code, ConnectError } from "@connectrpc/connect";
import { FormatError } from "../../../formats/_sdk/index.js";
import { checkNamedFormat, chooseFormat, isContainerFormat } from "../core/format-detection.js";
import { InFileKeys } from "../core/in-file-keys.js";
import { parsePluginOptions } from "../core/plugin-options.js";
import { RowMapper, type FieldMapping } from "../core/row-mapper.js";
import { normalizeName } from "../core/column-suggestions.js";
import { importLimits } from "../config/transfer-config.js";
import type { Caller } from "../caller.js";
import { recordsFor } from "../records/records-for-caller.js";
import { RecordsStreamWriter } from "../records/records-writer.js";
import { requireFormat, type TransferContext } from "../transfer-context.js";
import { InvalidTransferRequestError } from "../errors.js";
import { entityEnum } from "../../shared/records-wire/record-codec.js";
import { recordBatches } from "../records/record-batches.js";

/** The most bytes a preview reads: enough for hundreds of rows of any sane file. */
export const PREVIEW_MAX_BYTES = 1 << 20;
export const PREVIEW_DEFAULT_ROWS = 20;
export const PREVIEW_MAX_ROWS = 200;

export interface PreviewRequest {
  entity: EntitySpec;
  format: string;
  formatOptions: unknown;
  mode: WriteMode;
  mapping?: FieldMapping[];
  fileName?: string;
  head: Uint8Array;
  complete: boolean;
  rows: number;
}

export type PreviewOutcome = "new" | "update" | "unchanged" | "skip" | "error";

export interface FieldChange {
  field: string;
  before?: unknown;
  after?: unknown;
}

export interface PreviewRow {
  row: number;
  line?: number;
  outcome: PreviewOutcome;
  values?: Record<string, unknown>;
  changes: FieldChange[];
  errors: RowError[];
}

export interface ColumnSuggestion {
  column: string;
  field?: string;
  matchedBy?: "key" | "label" | "synonym";
}

export interface PreviewResult {
  format: string;
  formatChosenBy?: string;
  encoding?: string;
  detected?: Record<string, unknown>;
  columns: string[];
  suggestions: ColumnSuggestion[];
  headerErrors: RowError[];
  rows: PreviewRow[];
  /** Why the updates' field-level changes are not shown, when they are not (see judge). */
  changesWithheld?: string;
}

const WITHHELD = "(personal data withheld)";

export async function previewImport(ctx: TransferContext, caller: Caller, request: PreviewRequest, seesPersonalData: boolean): Promise<PreviewResult> {
  if (request.head.length > PREVIEW_MAX_BYTES)
    throw new InvalidTransferRequestError(`head is ${request.head.length} bytes, more than a preview reads (${PREVIEW_MAX_BYTES}); send the file's first bytes`, "head");
  if (!Number.isInteger(request.rows) || request.rows < 0 || request.rows > PREVIEW_MAX_ROWS)
    throw new InvalidTransferRequestError(`rows must be 0 (for ${PREVIEW_DEFAULT_ROWS}) to ${PREVIEW_MAX_ROWS}, not ${request.rows}`, "rows");
  const wanted = request.rows || PREVIEW_DEFAULT_ROWS;
  const plugins = ctx.plugins.plugins;
  const choice = request.format.trim() ? undefined : chooseFormat(request.head, request.fileName, plugins);
  const plugin = requireFormat(ctx, choice?.format ?? request.format, "read");
  if (!choice) checkNamedFormat(request.head, request.fileName, plugin, plugins);
  const options = parsePluginOptions(plugin, request.formatOptions);
  const spec = request.entity;
  const mapper = new RowMapper(spec, { mode: request.mode, mapping: request.mapping, nestedDelimiter: ctx.config.nestedDelimiter, typedFlattenedText: plugin.shape === "tabular" });
  const keys = new InFileKeys(spec);
  const limits = importLimits(ctx.config);
  const result: PreviewResult = { format: plugin.name, formatChosenBy: choice?.chosenBy, columns: [], suggestions: [], headerErrors: [], rows: [] };
  const valid: { index: number; record: Record<string, unknown> }[] = [];
  const bytes = request.complete || isContainerFormat(plugin) ? request.head : upToLastLineBreak(request.head);

  const reader = plugin.read!(once(bytes), { options, columns: mapper.readColumns(), limits: { maxRowBytes: limits.maxRowBytes, maxColumns: limits.maxColumns } });
  try {
    reading: for await (const items of reader) {
      for (const item of items) {
        if (item.kind === "encoding") result.encoding = item.encoding.name;
        else if (item.kind === "header") {
          result.columns = item.header.names;
          if (item.header.detected) result.detected = item.header.detected;
          result.suggestions = suggestFields(spec, item.header.names);
          for (const issue of mapper.checkHeader(item.header)) result.headerErrors.push({ row: 0, line: item.header.line, column: issue.column, reason: issue.reason, code: "invalid" });
          if (result.headerErrors.length > 0) break reading;
        } else if (item.kind === "error") {
          result.rows.push({
            row: item.error.row,
            line: item.error.line,
            outcome: "error",
            changes: [],
            errors: [{ row: item.error.row, line: item.error.line, column: item.error.column, reason: item.error.reason, code: "format" }],
          });
        } else {
          const { row, line } = item.row;
          const mapped = mapper.map(item.row);
          if (!mapped.ok) {
            result.rows.push({ row, line, outcome: "error", changes: [], errors: mapped.issues.map((i) => ({ row, line, column: i.column ?? i.field, reason: i.reason, code: "invalid" })) });
            if (mapped.fatal) break reading;
          } else {
            const duplicate = keys.claim(mapped.value.record, row);
            if (duplicate) {
              result.rows.push({
                row,
                line,
                outcome: "error",
                changes: [],
                errors: [{ row, line, column: mapper.columnFor(duplicate.field), reason: `${duplicate.field} repeats the value of row ${duplicate.firstRow} of this file`, code: "duplicate_in_file" }],
              });
            } else {
              valid.push({ index: result.rows.length, record: mapped.value.record });
              result.rows.push({ row, line, outcome: "new", values: shown(spec, mapped.value.record), changes: [], errors: [] });
            }
          }
        }
        if (result.rows.length >= wanted) break reading;
      }
    }
  } catch (error) {
    // A file cut short is what a preview expects of a head; other format errors stop it where they are, as an import would.
    if (!(error instanceof FormatError)) throw error;
    const at = error.row ?? (result.rows.at(-1)?.row ?? 0) + 1;
    if (result.columns.length === 0) result.headerErrors.push({ row: 0, line: error.line, reason: error.reason, code: "format" });
    else result.rows.push({ row: at, line: error.line, outcome: "error", changes: [], errors: [{ row: at, line: error.line, column: error.column, reason: error.reason, code: "format" }] });
  }
  if (valid.length > 0) await judge(ctx, caller, request, result, valid, seesPersonalData);
  return result;
}

/** The records service's dry run and the stored records: each valid row's outcome and changes. */
async function judge(
  ctx: TransferContext,
  caller: Caller,
  request: PreviewRequest,
  result: PreviewResult,
  valid: { index: number; record: Record<string, unknown> }[],
  seesPersonalData: boolean,
): Promise<void> {
  const spec = request.entity;
  const records = recordsFor(ctx.records, caller);
  const writer = new RecordsStreamWriter(records, spec);
  try {
    // One record per dry run, all in flight at once on the one stream: the records service's own verdict for each row.
    const answers = await Promise.all(valid.map((v) => writer.write([v.record], { mode: request.mode, dryRun: true })));
    answers.forEach((dry, k) => {
      const row = result.rows[valid[k]!.index]!;
      for (const e of dry.errors) {
        row.outcome = "error";
        row.errors.push({ row: row.row, line: row.line, column: e.field || undefined, reason: e.reason, code: e.code as RowError["code"] });
      }
      if (row.outcome === "error") return;
      row.outcome = dry.updated > 0 ? "update" : dry.unchanged > 0 ? "unchanged" : dry.skipped > 0 ? "skip" : "new";
    });
  } finally {
    await writer.close();
  }
  const keyOf = (record: Record<string, unknown>) => spec.keyFields.map((f) => String(record[f] ?? "")).join("\u0000");
  const stored = new Map<string, Record<string, unknown>>();
  // Only updates have changes to show, so only their stored records are read.
  const wanted = valid.filter((v) => result.rows[v.index]!.outcome === "update");
  if (wanted.length > 0) {
    try {
      const request = { entity: entityEnum(spec.name), filter: { keys: wanted.map((v) => ({ parts: spec.keyFields.map((f) => String(v.record[f] ?? "")) })) } };
      for await (const batch of recordBatches(records, spec, request, 1)) for (const record of batch) stored.set(keyOf(record), record);
    } catch (error) {
      // An importer may write records it may not read: the outcomes above are the records
      // service's own verdicts and stand; the stored values are not this caller's to see.
      if (!(error instanceof ConnectError && error.code === Code.PermissionDenied)) throw error;
      result.changesWithheld = `the changes each update makes are not shown: ${error.rawMessage}`;
      return;
    }
  }
  for (const { index, record } of wanted) {
    const row = result.rows[index]!;
    const before = stored.get(keyOf(record));
    if (!before) continue;
    row.changes = changes(spec, before, record, true, seesPersonalData);
    // Nothing the row gives differs: an upsert clears what the row leaves out.
    if (row.changes.length === 0) row.changes = changes(spec, before, record, false, seesPersonalData);
  }
}

/** The fields whose stored value the row changes: those it gives, or (`given` false) also those it leaves out, as cleared. */
function changes(spec: EntitySpec, before: Record<string, unknown>, after: Record<string, unknown>, given: boolean, seesPersonalData: boolean): FieldChange[] {
  const out: FieldChange[] = [];
  for (const field of spec.fields) {
    if (field.readOnly || field.writeOnly || field.keyPart) continue;
    if (given && !(field.key in after)) continue;
    const was = comparable(before[field.key]);
    const now = comparable(after[field.key]);
    if (was === now) continue;
    const change: FieldChange = { field: field.key };
    if (before[field.key] !== undefined) change.before = field.personal && !seesPersonalData ? WITHHELD : jsonValue(before[field.key]);
    if (after[field.key] !== undefined) change.after = jsonValue(after[field.key]);
    out.push(change);
  }
  return out;
}

function comparable(value: unknown): string {
  return value === undefined || value === null || value === "" ? "" : JSON.stringify(jsonValue(value));
}

/** A value as JSON: Dates as ISO 8601 text. */
function jsonValue(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(jsonValue);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonValue(v)]));
  return value;
}

/** A row's values as shown: JSON, write-only fields (passwords) withheld. */
function shown(spec: EntitySpec, record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (spec.fields.find((f) => f.key === key)?.writeOnly) out[key] = "(withheld)";
    else if (value !== undefined) out[key] = jsonValue(value);
  }
  return out;
}

/** Names other systems give this product's fields (normalized: lower case, no spaces, dashes or underscores). */
const SYNONYMS: Readonly<Record<string, string>> = {
  loginid: "username",
  login: "username",
  userid: "username",
  userlogin: "username",
  firstname: "firstName",
  givenname: "firstName",
  forename: "firstName",
  lastname: "lastName",
  surname: "lastName",
  familyname: "lastName",
  mail: "email",
  emailaddress: "email",
  useremail: "email",
  courseid: "courseId",
  coursecode: "courseId",
  shortname: "code",
  fullname: "title",
  coursename: "title",
};

/** A field for each of the file's columns: by key or label in any case and spacing, else a common synonym. */
export function suggestFields(spec: EntitySpec, columns: readonly string[]): ColumnSuggestion[] {
  const writable = spec.fields.filter((f) => !f.readOnly);
  return columns.map((column) => {
    const name = normalizeName(column);
    const byKey = writable.find((f) => normalizeName(f.key) === name);
    if (byKey) return { column, field: byKey.key, matchedBy: "key" };
    const byLabel = writable.find((f) => normalizeName(f.label) === name);
    if (byLabel) return { column, field: byLabel.key, matchedBy: "label" };
    const synonym = SYNONYMS[name.replace(/[^a-z0-9]/g, "")];
    if (synonym && writable.some((f) => f.key === synonym)) return { column, field: synonym, matchedBy: "synonym" };
    return { column };
  });
}

/** The head up to its last line break: a row cut off at the end is not previewed as a broken row. */
function upToLastLineBreak(head: Uint8Array): Uint8Array {
  const end = head.lastIndexOf(0x0a);
  return end < 0 ? head : head.subarray(0, end + 1);
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  if (bytes.length > 0) yield bytes;
}
