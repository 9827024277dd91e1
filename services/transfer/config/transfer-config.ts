/**
 * The transfer service's configuration: a JSON file (path from
 * `DX_TRANSFER_CONFIG`, else `config/transfer.json` when it exists) with
 * environment variables on top, checked with zod at start so that a typo
 * fails fast with the key's name and the file it came from.
 *
 * Environment overrides (each wins over the file):
 *
 * | variable                            | key                   | default                      |
 * |-------------------------------------|-----------------------|------------------------------|
 * | TRANSFER_ENABLED                    | enabled               | true                         |
 * | TRANSFER_HOST                       | host                  | 127.0.0.1                    |
 * | TRANSFER_PORT                       | port                  | 8000                         |
 * | TRANSFER_RECORDS_URL                | recordsUrl            | http://127.0.0.1:50051       |
 * | MONGODB_URI                         | mongodbUri            | (required to run the server) |
 * | TRANSFER_DATABASE                   | database              | dataexchange_transfer        |
 * | TRANSFER_IMPORT_MAX_FILE_MB         | importMaxFileMb       | 50                           |
 * | TRANSFER_IMPORT_MAX_ROW_BYTES       | importMaxRowBytes     | 1048576                      |
 * | TRANSFER_IMPORT_MAX_COLUMNS         | importMaxColumns      | 1000                         |
 * | TRANSFER_IMPORT_BATCH_SIZE          | importBatchSize       | 1000                         |
 * | TRANSFER_IMPORT_WRITES_IN_FLIGHT    | importWritesInFlight  | 2                            |
 * | TRANSFER_NESTED_DELIMITER           | nestedDelimiter       | "."                          |
 * | TRANSFER_STRICT_IMPORT_BY_DEFAULT   | strictImportByDefault | false                        |
 * | TRANSFER_EXPORT_LOGGING_ENABLED     | exportLoggingEnabled  | true                         |
 * | TRANSFER_PLUGIN_DIRS                | pluginDirs            | [] (formats/ is always read) |
 * | TRANSFER_MAX_STORED_ROW_ERRORS      | maxStoredRowErrors    | 100000                       |
 *
 * `TRANSFER_PLUGIN_DIRS` is a list separated by the platform's path delimiter
 * (`:` on Linux). Relative plugin directories in the file are resolved
 * against the file's folder, in the environment against the working
 * directory.
 */
import { existsSync, readFileSync } from "node:fs";
import { delimiter, dirname, resolve } from "node:path";
import { z } from "zod";

const bool = z.union([z.boolean(), z.enum(["true", "false", "1", "0", "yes", "no"]).transform((v) => v === "true" || v === "1" || v === "yes")]);
const int = (min: number) => z.coerce.number().int().min(min);

export const transferConfigSchema = z
  .object({
    /** When false, every transfer RPC and route answers UNAVAILABLE / 503. */
    enabled: bool.default(true),
    host: z.string().min(1).default("127.0.0.1"),
    port: int(0).max(65535).default(8000),
    /** Base URL of the records service (gRPC over h2c). */
    recordsUrl: z.url({ protocol: /^https?$/, error: "recordsUrl must be an http:// or https:// URL" }).default("http://127.0.0.1:50051"),
    mongodbUri: z.string().regex(/^mongodb(\+srv)?:\/\//, "mongodbUri must start with mongodb:// or mongodb+srv://").optional(),
    /** The transfer service's own database (jobs, row errors, staging). */
    database: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/, "database must be a plain database name").default("dataexchange_transfer"),
    /** Largest import file, in MiB (fractions allowed). */
    importMaxFileMb: z.coerce.number().positive().default(50),
    /** Largest single row of an import file, in bytes. */
    importMaxRowBytes: int(64).default(1 << 20),
    /** Most columns a row of an import file may have. */
    importMaxColumns: int(1).default(1000),
    /** Records per batch written to the records service. */
    importBatchSize: int(1).max(10_000).default(1000),
    /** Batches an import sends to the records service before it waits for the oldest answer. */
    importWritesInFlight: int(1).max(8).default(2),
    /** Joins nested keys into flat column names in tabular files (details.device). */
    nestedDelimiter: z.string().min(1).max(4).default("."),
    /** Whether imports that do not say are all-or-nothing. */
    strictImportByDefault: bool.default(false),
    /** Whether exports append audit events (imports and writes are always audited). */
    exportLoggingEnabled: bool.default(true),
    /** Extra plugin folders, read after formats/. */
    pluginDirs: z.array(z.string().min(1)).default([]),
    /** Row errors kept per job in job_row_errors; later ones are only counted. */
    maxStoredRowErrors: int(100).default(100_000),
  })
  .strict();

export type TransferConfig = z.infer<typeof transferConfigSchema>;
export type TransferConfigInput = z.input<typeof transferConfigSchema>;

/** Environment variable → config key. */
export const ENV_OVERRIDES: Readonly<Record<string, keyof TransferConfig>> = {
  TRANSFER_ENABLED: "enabled",
  TRANSFER_HOST: "host",
  TRANSFER_PORT: "port",
  TRANSFER_RECORDS_URL: "recordsUrl",
  MONGODB_URI: "mongodbUri",
  TRANSFER_DATABASE: "database",
  TRANSFER_IMPORT_MAX_FILE_MB: "importMaxFileMb",
  TRANSFER_IMPORT_MAX_ROW_BYTES: "importMaxRowBytes",
  TRANSFER_IMPORT_MAX_COLUMNS: "importMaxColumns",
  TRANSFER_IMPORT_BATCH_SIZE: "importBatchSize",
  TRANSFER_IMPORT_WRITES_IN_FLIGHT: "importWritesInFlight",
  TRANSFER_NESTED_DELIMITER: "nestedDelimiter",
  TRANSFER_STRICT_IMPORT_BY_DEFAULT: "strictImportByDefault",
  TRANSFER_EXPORT_LOGGING_ENABLED: "exportLoggingEnabled",
  TRANSFER_PLUGIN_DIRS: "pluginDirs",
  TRANSFER_MAX_STORED_ROW_ERRORS: "maxStoredRowErrors",
};

export class TransferConfigError extends Error {
  override name = "TransferConfigError";
}

/** A config from plain values (tests, embedding): defaults filled in, checked. */
export function transferConfig(input: TransferConfigInput = {}, source = "configuration"): TransferConfig {
  const result = transferConfigSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new TransferConfigError(`invalid transfer service ${source}:\n${lines.join("\n")}`);
  }
  return result.data;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Working directory for the default file path and relative env paths. */
  cwd?: string;
}

/**
 * Reads the file (if any), applies the environment, validates. Throws a
 * {@link TransferConfigError} naming every bad key.
 */
export function loadTransferConfig(options: LoadOptions = {}): TransferConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const explicit = env.DX_TRANSFER_CONFIG;
  const path = explicit ? resolve(cwd, explicit) : resolve(cwd, "config/transfer.json");
  let fromFile: Record<string, unknown> = {};
  let source = "configuration (environment)";
  if (explicit && !existsSync(path)) throw new TransferConfigError(`DX_TRANSFER_CONFIG names ${path}, which does not exist`);
  if (existsSync(path)) {
    source = `configuration (${path} and environment)`;
    try {
      const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("the file must hold a JSON object");
      fromFile = parsed as Record<string, unknown>;
    } catch (error) {
      throw new TransferConfigError(`cannot read the transfer config file ${path}: ${(error as Error).message}`);
    }
    // "$schema" or "//" comments are allowed in the file and dropped.
    for (const key of Object.keys(fromFile)) if (key.startsWith("$") || key.startsWith("//")) delete fromFile[key];
    if (Array.isArray(fromFile.pluginDirs)) fromFile.pluginDirs = fromFile.pluginDirs.map((d) => (typeof d === "string" ? resolve(dirname(path), d) : d));
  }
  const merged: Record<string, unknown> = { ...fromFile };
  for (const [name, key] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value === undefined || value === "") continue;
    merged[key] = key === "pluginDirs" ? value.split(delimiter).filter(Boolean).map((d) => resolve(cwd, d)) : value;
  }
  return transferConfig(merged as TransferConfigInput, source);
}

/** The read limits and file size limit of an import, in bytes. */
export function importLimits(config: TransferConfig): { maxFileBytes: number; maxRowBytes: number; maxColumns: number } {
  return {
    maxFileBytes: Math.floor(config.importMaxFileMb * 1024 * 1024),
    maxRowBytes: config.importMaxRowBytes,
    maxColumns: config.importMaxColumns,
  };
}
