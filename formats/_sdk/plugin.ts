/**
 * The plugin contract: what a format plugin is and what it receives.
 *
 * A plugin is a plain object (unstorage-driver style) so that loading one is an
 * `import()` plus a schema check, optional capabilities are optional members,
 * and one contract suite can exercise every plugin the same way. Plugins turn
 * bytes into rows and rows into bytes; the transfer core owns everything else
 * (the database loop, counting, column metadata, validation, tracing).
 */
import type { z } from "zod";

/** The column types the records service knows about; readers produce raw values, {@link coerceCell} types them. */
export type FieldType = "string" | "number" | "boolean" | "timestamp" | "object" | "string_list" | "object_list";

/** Column metadata supplied by the core (Moodle dataformat style): a stable key and a human label. */
export interface Column {
  key: string;
  label: string;
  type: FieldType;
}

/** A value in a row on its way out. `undefined` is "missing", `null` an explicit null. */
export type CellValue = string | number | boolean | Date | null | undefined | CellValue[] | { [k: string]: CellValue };

/** One record keyed by column key. */
export type Row = Record<string, CellValue>;

/** What `write` receives besides the rows. */
export interface WriteContext<O> {
  /** Columns in output order; a writer emits exactly these, in this order. */
  columns: Column[];
  options: O;
  /** True when the file should show column labels (human audience) instead of keys. */
  useLabels: boolean;
  /**
   * What is being exported, for formats that show it to a person: a sheet
   * named after the entity, an HTML caption naming entity and filter.
   * Optional: callers without such a notion (tests, tools) leave it out, and
   * a plugin must then fall back to something neutral.
   */
  source?: WriteSource;
  /**
   * A workbook of several parts (a bundle export: one sheet per entity),
   * given only to a plugin that declares {@link FormatPlugin.multiPart}. The
   * rows stream then carries the parts one after another, in this order,
   * and **an empty batch ends a part** (so a part may have no rows: two
   * empty batches in a row). `columns` and `source` above are then the first
   * part's. The separator is a plain value, so the stream crosses into a
   * format worker unchanged, and rows of part 2 are read from the records
   * service only once part 1 is written.
   */
  parts?: WritePart[];
}

/** One part of a multi-part write: its own columns and subject (the sheet is named after `source.entity`). */
export interface WritePart {
  columns: Column[];
  source: WriteSource;
}

/** The export's subject, as {@link WriteContext.source} gives it. */
export interface WriteSource {
  /** The entity exported ("users"). */
  entity: string;
  /** The records filter as the caller gave it (JSON text), when there was one. */
  filter?: string;
}

/** Limits a reader must enforce before it buffers more input, so memory stays bounded on hostile files. */
export interface ReadLimits {
  /** Largest single record a reader may hold in memory (bytes, or UTF-16 code units of decoded text, which never exceed the UTF-8 size). */
  maxRowBytes: number;
  /** Largest number of fields a record may have. */
  maxColumns: number;
}

/** What `read` receives besides the bytes. */
export interface ReadContext<O> {
  options: O;
  /** Expected columns when the core knows them; readers use them to map headers (key or label) to keys. */
  columns?: Column[];
  limits: ReadLimits;
}

/** One record as the reader found it: values are raw (strings for text formats, JSON values for JSON). */
export interface ReadRow {
  /** 1-based data record number, header excluded: what a user sees as "row 12". */
  row: number;
  /** 1-based physical line where the record starts, when the format has lines. */
  line?: number;
  values: Record<string, unknown>;
  /**
   * For a JSON-based reader: the values that are numbers the file wrote in a
   * form `String(value)` does not give back (`1.50`, `1e21`, `-0`,
   * `12345678901234567890`), keyed like `values`, as the file wrote them
   * ({@link checkJsonText} notes them). The reader cannot know which columns
   * hold text; the core can, and stores such a number in a text column as
   * written, where `String()` of the double would be other text. Numbers in
   * number columns stay numbers. Leave it out when there are none.
   */
  numberText?: Record<string, string>;
}

/** A record the reader could not turn into values but could skip; parsing continues after it. */
export interface ReadRowError {
  row: number;
  line?: number;
  column?: string;
  /**
   * The cell as a spreadsheet user finds it, `Sheet1!C7` (`'My sheet'!C7`
   * when the name needs quotes); set by spreadsheet readers, whose `line` is
   * the sheet's row number. The reason names the cell too, so it reaches
   * users through every surface that shows reasons.
   */
  cell?: string;
  reason: string;
  /**
   * The cells the reader could still place, keyed like a row's values (a CSV
   * record with a missing field: the fields it has, by position). They go into
   * the job's failed-rows file, so the user fixes the row there; leave it out
   * when nothing can be placed (a line that is not JSON, an oversized record).
   */
  values?: Record<string, unknown>;
}

/**
 * The names a file gives its columns. Every reader of a `tabular` plugin
 * yields exactly one, before any row or row error (the contract suite checks
 * it): the core checks the whole header (unknown columns, a mapping naming a
 * column the file does not have) before a single row is written, and the
 * failed-rows file repeats it. A tabular input with no header row at all (an
 * empty file) is a FormatError ("the file has no header row"), not zero rows.
 */
export interface ReadHeader {
  /**
   * Column names in file order, as the file spells them and as the rows'
   * values are keyed: the header row's cells (a reader may trim surrounding
   * spaces; `column_N` for a blank one), or `column_1`, `column_2`, … for a
   * file without a header row.
   */
  names: string[];
  /** 1-based line of the header row, when the file has one. */
  line?: number;
  /**
   * Options the reader worked out instead of being told (a sniffed delimiter,
   * a detected encoding), under its own option names: writing with the
   * request's options plus these reproduces the file's form.
   */
  detected?: Record<string, unknown>;
}

/** How a text reader decoded the bytes (reported in the job summary). */
export interface ReadEncoding {
  /** WHATWG-style name: utf-8, utf-16le, utf-16be, latin1, windows-1252, … */
  name: string;
  /** Why this encoding: a byte order mark, the `encoding` option, the default (valid UTF-8), or a detector (`encoding: "auto"`). */
  source: "bom" | "option" | "default" | "detected";
  /** The detector's confidence, 0–100 (source "detected"). */
  confidence?: number;
}

export type ReadItem =
  | { kind: "row"; row: ReadRow }
  | { kind: "error"; error: ReadRowError }
  | { kind: "header"; header: ReadHeader }
  /** Optional: yielded by text readers once they know, before the rows it applies to. */
  | { kind: "encoding"; encoding: ReadEncoding };

/**
 * A format plugin. `write` and `read` are streaming transforms over async
 * iterables of batches: arrays cross the async boundary, never one await per
 * row, because a per-row await costs more than the formatting itself. A reader
 * yields one batch per input chunk that completed rows (so rows flow on while
 * an upload is still arriving); a writer yields one chunk per batch of rows.
 */
// biome-ignore lint/suspicious/noExplicitAny: a plugin of any options, where the service holds plugins of every kind in one map
export interface FormatPlugin<O = any> {
  /** Must equal the plugin's folder name; it is the format's id in URLs and RPCs. */
  name: string;
  title: string;
  /** File extensions without the dot, preferred first. */
  extensions: string[];
  mimeType: string;
  /** "tabular": values must be scalars (the core flattens/encodes nested values before write); "document": nested values kept. */
  shape: "tabular" | "document";
  /** Human-facing formats print column labels, machine formats keys. */
  audience: "human" | "machine";
  /** Options schema; `parse({})` must yield the defaults. */
  options: z.ZodType<O>;
  /**
   * The plugin's own version and author, shown by ListFormats so an operator
   * can tell which build of a third-party format is loaded. Absent: taken from
   * a `package.json` in the plugin's folder, else the product's for shipped formats.
   */
  version?: string;
  author?: string;
  /**
   * The writer can put several parts (entities) in one file, a sheet each,
   * when {@link WriteContext.parts} is given (workbook formats). A bundle
   * export in a format without it is a ZIP of one file per part instead.
   */
  multiPart?: boolean;
  write?(rows: AsyncIterable<Row[]>, ctx: WriteContext<O>): AsyncIterable<Uint8Array>;
  read?(input: AsyncIterable<Uint8Array>, ctx: ReadContext<O>): AsyncIterable<ReadItem[]>;
}

/**
 * Identity function that gives a plugin literal its types (options inferred
 * from the schema) without a class hierarchy to inherit from.
 */
export function definePlugin<O>(plugin: FormatPlugin<O>): FormatPlugin<O> {
  return plugin;
}

/** Default limits for callers (tests, tools) that have no policy of their own. */
export const DEFAULT_READ_LIMITS: ReadLimits = { maxRowBytes: 1 << 20, maxColumns: 1000 };
