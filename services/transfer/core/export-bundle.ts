/**
 * Bundle export: several entities in one file. A workbook format (a plugin
 * that declares `multiPart`: XLSX, ODS) gets one rows stream carrying every
 * part in turn and writes a sheet per entity; any other format is written
 * once per part, each file an entry of a ZIP (`users.csv`, `courses.csv`, …,
 * as Canvas takes them), through the same streaming ZIP writer the
 * spreadsheet formats use (yazl). Either way the parts are read one after
 * another: part 2's records are asked for only once part 1 is written, so a
 * bundle holds no more in memory than a single export.
 */
import type { FormatPlugin, Row, WritePart, WriteSource } from "../../../formats/_sdk/index.js";
import { writeZip, type ZipEntry } from "../../../formats/_spreadsheet/zip-writer.js";
import { traceAsyncIterable } from "../../shared/telemetry/index.js";
import type { EntitySpec } from "../../domain/index.js";
import { abortable } from "./abortable.js";
import { throwIfCancelled, TransferSettingsError } from "./errors.js";
import { planColumns, recordToRow } from "./export-columns.js";
import { runExport } from "./export-pipeline.js";
import { namingPluginFailures } from "./plugin-failures.js";
import { parsePluginOptions } from "./plugin-options.js";

/** One entity of a bundle: what to export of it, and its records, read only when its turn comes. */
export interface BundlePartSettings {
  entity: EntitySpec;
  fields?: string[];
  labels?: Record<string, string>;
  source?: WriteSource;
  /** Opens the part's record stream; called once, when the part is reached. */
  batches: () => AsyncIterable<Record<string, unknown>[]>;
}

export interface BundleSettings {
  plugin: FormatPlugin;
  pluginOptions: unknown;
  nestedDelimiter: string;
  parts: BundlePartSettings[];
  signal?: AbortSignal;
  /** After each chunk of bytes: the records written so far, per part (in part order), and the bytes. */
  onProgress?: (p: { records: number[]; bytes: number }) => void;
}

/** How a bundle is packed in `plugin`'s format: one workbook, or a ZIP of one file per entity. */
export function bundleContainer(plugin: FormatPlugin): "workbook" | "zip" {
  return plugin.multiPart ? "workbook" : "zip";
}

/** The name of a part's file inside a ZIP bundle: `users.csv` (what a bundle import reads the entity from). */
export function bundleEntryName(entity: string, plugin: FormatPlugin): string {
  return `${entity}.${plugin.extensions[0] ?? plugin.name}`;
}

/**
 * Streams the bundle. Settings errors (no parts, an entity twice, unknown
 * fields, bad options) are thrown on the first `next()`, before any part's
 * records are read.
 */
export async function* runBundleExport(settings: BundleSettings): AsyncGenerator<Uint8Array> {
  const { plugin, signal, parts } = settings;
  if (plugin.write === undefined) throw new TransferSettingsError(`the ${plugin.name} format cannot write files`, [{ setting: "format", reason: "has no writer" }]);
  if (parts.length === 0) throw new TransferSettingsError("a bundle names at least one entity", [{ setting: "parts", reason: "empty" }]);
  const seen = new Set<string>();
  for (const [i, part] of parts.entries()) {
    if (seen.has(part.entity.name)) throw new TransferSettingsError(`the bundle names ${part.entity.name} twice`, [{ setting: `parts[${i}].entity`, reason: "repeated" }]);
    seen.add(part.entity.name);
  }
  const options = parsePluginOptions(plugin, settings.pluginOptions);
  const plans = parts.map((p) => planColumns({ plugin, entity: p.entity, fields: p.fields, labels: p.labels, nestedDelimiter: settings.nestedDelimiter }));
  const records = parts.map(() => 0);
  let bytes = 0;
  throwIfCancelled(signal);

  let out: AsyncIterable<Uint8Array>;
  if (bundleContainer(plugin) === "workbook") {
    const writeParts: WritePart[] = parts.map((p, i) => ({ columns: plans[i]!.map((c) => c.column), source: p.source ?? { entity: p.entity.name } }));
    async function* rows(): AsyncGenerator<Row[]> {
      for (const [i, part] of parts.entries()) {
        // An empty batch ends a part (WriteContext.parts).
        if (i > 0) yield [];
        for await (const batch of abortable(part.batches(), signal)) {
          if (batch.length === 0) continue;
          const mapped = new Array<Row>(batch.length);
          for (let j = 0; j < batch.length; j++) mapped[j] = recordToRow(batch[j]!, plans[i]!, plugin.shape);
          records[i]! += batch.length;
          yield mapped;
        }
      }
    }
    const write = plugin.write.bind(plugin);
    const first = writeParts[0]!;
    out = namingPluginFailures(
      plugin.name,
      rows(),
      (input) => write(input, { columns: first.columns, options, useLabels: plugin.audience === "human", source: first.source, parts: writeParts }),
      "writing",
    );
  } else {
    async function* entries(): AsyncGenerator<ZipEntry> {
      for (const [i, part] of parts.entries()) {
        yield {
          name: bundleEntryName(part.entity.name, plugin),
          data: runExport(part.batches(), {
            plugin,
            pluginOptions: settings.pluginOptions,
            entity: part.entity,
            fields: part.fields,
            labels: part.labels,
            source: part.source ?? { entity: part.entity.name },
            nestedDelimiter: settings.nestedDelimiter,
            signal,
            onProgress: (p) => (records[i] = p.records),
          }),
        };
      }
    }
    out = writeZip(entries());
  }
  for await (const chunk of traceAsyncIterable("format.write", { "dx.plugin": plugin.name, "dx.entity": parts.map((p) => p.entity.name).join(",") }, out)) {
    throwIfCancelled(signal);
    if (chunk.byteLength === 0) continue;
    bytes += chunk.byteLength;
    settings.onProgress?.({ records: [...records], bytes });
    yield chunk;
  }
  throwIfCancelled(signal);
}
