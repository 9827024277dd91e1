/**
 * Export: a stream of record batches in, a stream of file bytes out.
 *
 * The core owns the loop and the counting; the plugin only turns rows into
 * bytes. Everything is pulled: the plugin asks for the next batch of rows only
 * when the consumer asked for more bytes, so a slow download slows the
 * database cursor instead of filling memory, and at most one batch of records
 * (plus the plugin's current chunk) is held at any time.
 */
import { traceAsyncIterable } from "../../shared/telemetry/index.js";
import { namingPluginFailures } from "./plugin-failures.js";
import type { Column, FormatPlugin, Row, WriteSource } from "../../../formats/_sdk/index.js";
import type { EntitySpec } from "../../domain/index.js";
import { abortable } from "./abortable.js";
import { throwIfCancelled, TransferSettingsError } from "./errors.js";
import { parsePluginOptions } from "./plugin-options.js";
import { planColumns, recordToRow, type ColumnSettings } from "./export-columns.js";

export interface ExportSettings {
  plugin: FormatPlugin;
  /** Raw options for the plugin; parsed (and refused with a settings error) with `plugin.options`. */
  pluginOptions: unknown;
  entity: EntitySpec;
  /** Selection and order of columns (field keys or dotted paths such as `details.device`); default: every readable field. */
  fields?: string[];
  /** Custom column labels, by selected path. */
  labels?: Record<string, string>;
  /** What is exported, for formats that show it (a sheet's name, an HTML caption). */
  source?: WriteSource;
  /** Joins a nested path into a tabular column key: `details.device`. Default ".". */
  nestedDelimiter: string;
  signal?: AbortSignal;
  /** Called after each chunk of bytes is produced, with the records and bytes so far. */
  onProgress?: (p: { records: number; bytes: number }) => void;
}

/** Key, label and type of every column of the export, in order (write-only fields never included). */
export function exportColumns(settings: Pick<ExportSettings, keyof ColumnSettings>): Column[] {
  return planColumns(settings).map((p) => p.column);
}

/**
 * Streams the file for `batches`. Settings errors (unknown fields, bad plugin
 * options, a plugin that cannot write) are thrown on the first `next()`,
 * before the source is read. Cancelling through `settings.signal` stops the
 * source and the plugin and throws `TransferCancelledError`; an early `break`
 * by the consumer closes the plugin and the source (and so the cursor) too.
 */
export async function* runExport(batches: AsyncIterable<Record<string, unknown>[]>, settings: ExportSettings): AsyncGenerator<Uint8Array> {
  const { plugin, signal } = settings;
  if (plugin.write === undefined) {
    throw new TransferSettingsError(`the ${plugin.name} format cannot write files`, [{ setting: "format", reason: "has no writer" }]);
  }
  const options = parsePluginOptions(plugin, settings.pluginOptions);
  const plans = planColumns(settings);
  const columns = plans.map((p) => p.column);
  let records = 0;
  let bytes = 0;

  async function* rows(): AsyncGenerator<Row[]> {
    for await (const batch of abortable(batches, signal)) {
      if (batch.length === 0) continue;
      const out = new Array<Row>(batch.length);
      for (let i = 0; i < batch.length; i++) out[i] = recordToRow(batch[i]!, plans, plugin.shape);
      records += batch.length;
      yield out;
    }
  }

  throwIfCancelled(signal);
  const write = plugin.write.bind(plugin);
  const written = namingPluginFailures(plugin.name, rows(), (input) => write(input, { columns, options, useLabels: plugin.audience === "human", source: settings.source }), "writing");
  for await (const chunk of traceAsyncIterable(`format.write`, { "dx.plugin": plugin.name, "dx.entity": settings.entity.name }, written)) {
    throwIfCancelled(signal);
    if (chunk.byteLength === 0) continue;
    bytes += chunk.byteLength;
    settings.onProgress?.({ records, bytes });
    yield chunk;
  }
  throwIfCancelled(signal);
}
