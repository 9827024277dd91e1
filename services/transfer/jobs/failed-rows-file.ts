/**
 * GetFailedRows' two views of a job's rejected rows:
 *
 *  - `rows` (the default): the rejected rows themselves, as a file of the
 *    upload's own format and dialect (CSV with the same delimiter and
 *    encoding, JSON, NDJSON, or whatever plugin read it), every source column
 *    as in the file, plus `_row`, `_line` and `_errors`. The user fixes the
 *    cells and uploads the file unchanged otherwise: an import reads past
 *    those three columns. This is what django-import-export and Canvas give.
 *    A write-only cell (a password) is never kept: it is empty, and `_errors`
 *    says it was withheld. A row the reader could not split into cells (a
 *    line that is not JSON, an oversized record) is there with its errors and
 *    no cells: fix it in the original file.
 *  - `errors`: one line per error (row, line, column, value, reason, code),
 *    as CSV (failed-rows-csv.ts).
 *
 * A reader without `pii` gets the row's personal values (emails, names: the
 * cells of personal columns, and those values wherever `_errors` quotes
 * them) as {@link WITHHELD}, as in every view of a job (job-views.ts).
 *
 * Written through the upload's plugin, so every format (and every format
 * added later) gives its failed rows back in its own form, streamed in flat
 * memory from the store.
 */
import type { Column, FormatPlugin, Row } from "../../../formats/_sdk/index.js";
import { parsePluginOptions } from "../core/plugin-options.js";
import { downloadMimeType } from "./download-mime-type.js";
import { FAILED_ROWS_COLUMNS } from "../core/mapping-plan.js";
import { FailedRowsNotKeptError, InvalidTransferRequestError } from "../errors.js";
import type { TransferContext } from "../transfer-context.js";
import { failedRowsCsv } from "./failed-rows-csv.js";
import { FailedRowStore, type FailedRow } from "./failed-row-store.js";
import type { JobDocument } from "./job-types.js";
import { entitySpec } from "../../domain/index.js";
import { redact, scrubPluginReason } from "../core/import-events.js";
import { WITHHELD } from "./job-views.js";

export const FAILED_ROWS_VIEWS = ["rows", "errors"] as const;
export type FailedRowsView = (typeof FAILED_ROWS_VIEWS)[number];

export interface FailedRowsFile {
  fileName: string;
  mimeType: string;
  chunks: AsyncGenerator<Uint8Array>;
}

const BATCH = 200;

/** Where a bundle import keeps one part's rejected rows: its own rows, of its own file's columns. */
export function bundlePartRowsId(jobId: string, entity: string): string {
  return `${jobId}/${entity}`;
}

/**
 * The file for a view; throws FailedRowsNotKeptError (FAILED_PRECONDITION) when the rows view has nothing kept to give.
 * A bundle import's rows view is one part's (`part`: its sheet or ZIP entry, or its entity): the parts are files of different columns and formats.
 */
export async function failedRowsFile(ctx: TransferContext, job: JobDocument, view: FailedRowsView, seesPersonalData = true, part?: string): Promise<FailedRowsFile> {
  if (part !== undefined && !(job.kind === "import" && job.parts)) throw new InvalidTransferRequestError(`part is for a bundle import's rows; job ${job._id} is not one`, "part");
  // A revert's refusals are records, not rows of a file: its only view is the errors one.
  if (view === "errors" || job.kind === "revert") return { fileName: `job-${job._id}-errors.csv`, mimeType: "text/csv", chunks: failedRowsCsv(ctx.jobs, job._id, seesPersonalData) };
  if (job.kind !== "import") throw new FailedRowsNotKeptError(`job ${job._id} is an export: it has no rejected rows`);
  let source = { rowsId: job._id, format: job.format, formatOptions: job.formatOptions, entity: job.entity as string | undefined, suffix: "" };
  if (job.parts) {
    const names = job.parts.map((p) => p.name).join(", ");
    if (part === undefined) throw new InvalidTransferRequestError(`job ${job._id} imported a bundle: name the part whose rows you want (part=…: ${names}), or view=errors for all of them`, "part");
    const chosen = job.parts.find((p) => p.name === part || p.entity === part);
    if (!chosen) throw new InvalidTransferRequestError(`job ${job._id} has no part ${JSON.stringify(part)} (its parts: ${names})`, "part");
    source = { rowsId: bundlePartRowsId(job._id, chosen.entity), format: chosen.format ?? "csv", formatOptions: chosen.formatOptions ?? "{}", entity: chosen.entity, suffix: `-${chosen.entity}` };
  }
  const store = new FailedRowStore(ctx.db);
  const header = await store.header(source.rowsId);
  if (!header) {
    throw new FailedRowsNotKeptError(`job ${job._id} kept no rejected rows as rows (it ran before they were kept, or has not ended); view=errors lists its errors`);
  }
  const plugin = writerFor(ctx, source.format);
  const options = writeOptions(plugin, { ...job, format: source.format, formatOptions: source.formatOptions }, header.detected);
  const names = header.names;
  const columns: Column[] = plugin.shape === "tabular" || names !== undefined ? [...(names ?? []), ...FAILED_ROWS_COLUMNS].map((name) => ({ key: name, label: name, type: "string" as const })) : [];
  const extension = plugin.extensions[0] ?? plugin.name;
  const personalColumns = seesPersonalData ? undefined : personalColumnNames(source.entity);
  const withholding = personalColumns !== undefined && personalColumns.size > 0;
  const rows = async function* (): AsyncGenerator<Row[]> {
    let batch: Row[] = [];
    for await (const failed of store.rows(source.rowsId)) {
      batch.push(rowOf(withholding && personalColumns ? forReaderWithoutPii(failed, personalColumns) : failed, columns.length > 0));
      if (batch.length >= BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  };
  const write = plugin.write!.bind(plugin);
  return {
    fileName: `job-${job._id}${source.suffix}-failed-rows.${extension}`,
    mimeType: downloadMimeType(plugin.mimeType, options),
    chunks: (async function* () {
      yield* write(rows(), { columns, options, useLabels: false });
    })(),
  };
}

/** The upload's plugin when it can write; CSV otherwise (a read-only format still gets its rows back). */
function writerFor(ctx: TransferContext, format: string): FormatPlugin {
  const plugin = ctx.plugins.plugins.get(format);
  if (plugin?.write) return plugin;
  const csv = ctx.plugins.plugins.get("csv");
  if (!csv?.write) throw new FailedRowsNotKeptError(`no loaded format can write job rows (${format} cannot)`);
  return csv;
}

/** The upload's options plus what its reader detected (a sniffed delimiter, a detected encoding), so the file has the upload's form. */
function writeOptions(plugin: FormatPlugin, job: JobDocument, detected: Record<string, unknown> | undefined): unknown {
  let given: Record<string, unknown> = {};
  try {
    given = plugin.name === job.format ? (JSON.parse(job.formatOptions || "{}") as Record<string, unknown>) : {};
  } catch {
    given = {};
  }
  const merged: Record<string, unknown> = { ...given, ...(detected ?? {}) };
  // "auto" is a way to read; the file is written in what was detected (else the default).
  if (merged.encoding === "auto") delete merged.encoding;
  return parsePluginOptions(plugin, merged);
}

function rowOf(failed: FailedRow, tabular: boolean): Row {
  const errors = [...failed.errors];
  if (failed.withheld.length > 0) errors.push(`${failed.withheld.join(", ")}: withheld (never kept in clear); enter ${failed.withheld.length > 1 ? "them" : "it"} again`);
  if (failed.values === undefined) errors.push("the row's cells were not kept (the reader could not split it, or it failed after validation): fix it in the original file");
  const row: Row = {};
  for (const [key, value] of Object.entries(failed.values ?? {})) {
    Object.defineProperty(row, key, { value: tabular && typeof value === "object" && value !== null ? JSON.stringify(value) : value, enumerable: true, writable: true, configurable: true });
  }
  row._row = failed.row;
  if (failed.line !== undefined) row._line = failed.line;
  row._errors = errors.join("; ");
  return row;
}

/** Lower-cased keys and labels of the entity's personal fields: cells under those names are personal whatever they hold. */
function personalColumnNames(entity: string | undefined): Set<string> {
  const spec = entity ? entitySpec(entity) : undefined;
  return new Set((spec?.fields ?? []).filter((f) => f.personal).flatMap((f) => [f.key.toLowerCase(), f.label.trim().toLowerCase()]));
}

/** A rejected row of an entity with personal fields, with its personal values withheld: cells of personal columns or holding a noted personal value, and those values in its errors. */
function forReaderWithoutPii(failed: FailedRow, personalColumns: Set<string>): FailedRow {
  const personal = new Set(failed.personal);
  // Excerpts of the file a format's message quotes (a JSON parse error) say nothing of what they hold: withheld too.
  const errors = failed.errors.map((e) => scrubPluginReason(redact(e, failed.personal, WITHHELD), true));
  if (failed.values === undefined) return { ...failed, errors };
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(failed.values)) {
    const withhold = personalColumns.has(key.trim().toLowerCase()) || (typeof value === "string" && personal.has(value));
    Object.defineProperty(values, key, { value: withhold && value !== undefined && value !== "" ? WITHHELD : value, enumerable: true, writable: true, configurable: true });
  }
  return { ...failed, values, errors };
}
