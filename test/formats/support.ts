/** Helpers for format tests: feeding bytes in chunks and collecting what a plugin yields. */
import {
  DEFAULT_READ_LIMITS,
  FormatError,
  type Column,
  type FormatPlugin,
  type ReadEncoding,
  type ReadHeader,
  type ReadItem,
  type ReadLimits,
  type ReadRow,
  type ReadRowError,
  type Row,
} from "../../formats/_sdk/index.js";

export const DATA_DIR = new URL("../../../shared/data/", import.meta.url);

/** Yields `bytes` in pieces of `size` (1 and 2 cross every boundary a reader can mishandle). */
export async function* chunked(bytes: Uint8Array | string, size = 64 * 1024): AsyncGenerator<Uint8Array> {
  const b = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes;
  for (let i = 0; i < b.length; i += size) yield b.slice(i, i + size);
}

export async function* batches<T>(items: T[], size = 100): AsyncGenerator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

export async function writeAll(plugin: FormatPlugin, rows: Row[], columns: Column[], options: Record<string, unknown> = {}, useLabels = plugin.audience === "human"): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of plugin.write!(batches(rows), { columns, options: plugin.options.parse(options), useLabels })) parts.push(chunk);
  return Buffer.concat(parts);
}

export interface ReadResult {
  rows: ReadRow[];
  errors: ReadRowError[];
  fatal?: FormatError;
  /** The header item, when the reader yielded one (tabular readers must, before any row). */
  header?: ReadHeader;
  /** How many header items there were, and how many rows or errors came before the first. */
  headers?: { count: number; itemsBefore: number };
  /** The last encoding item, when the reader yielded any. */
  encoding?: ReadEncoding;
}

/** Reads everything; a FormatError is captured (with the rows before it), anything else propagates. */
export async function readAll(
  plugin: FormatPlugin,
  input: AsyncIterable<Uint8Array> | Uint8Array | string,
  opts: { options?: Record<string, unknown>; columns?: Column[]; limits?: Partial<ReadLimits>; chunkSize?: number } = {},
): Promise<ReadResult> {
  const source = typeof input === "string" || input instanceof Uint8Array ? chunked(input, opts.chunkSize) : input;
  const result: ReadResult = { rows: [], errors: [] };
  try {
    for await (const batch of plugin.read!(source, {
      options: plugin.options.parse(opts.options ?? {}),
      columns: opts.columns,
      limits: { ...DEFAULT_READ_LIMITS, ...opts.limits },
    })) {
      collect(batch, result);
    }
  } catch (err) {
    if (!(err instanceof FormatError)) throw err;
    result.fatal = err;
  }
  return result;
}

function collect(batch: ReadItem[], into: ReadResult): void {
  for (const item of batch) {
    if (item.kind === "row") into.rows.push(item.row);
    else if (item.kind === "error") into.errors.push(item.error);
    else if (item.kind === "encoding") into.encoding = item.encoding;
    else {
      into.header ??= item.header;
      into.headers ??= { count: 0, itemsBefore: into.rows.length + into.errors.length };
      into.headers.count++;
    }
  }
}

/** Values of the rows only, for comparisons with expected data. */
export function values(result: ReadResult): Record<string, unknown>[] {
  return result.rows.map((r) => r.values);
}
