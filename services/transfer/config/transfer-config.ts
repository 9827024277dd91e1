/**
 * The transfer service's configuration: a JSON file (path from
 * `DX_TRANSFER_CONFIG`, else `config/transfer.json` when it exists) with
 * environment variables on top, checked with zod at start so that a typo
 * fails fast with the key's name and the file it came from.
 *
 * Every key, its environment variable and its default: README.md's
 * configuration table, generated from this schema (`npm run docs:config`;
 * test/transfer/config-table.test.ts checks it is current). Each key's
 * meaning is its `.describe()` text below, so there is one source.
 *
 * `TRANSFER_PLUGIN_DIRS` is a list separated by the platform's path delimiter
 * (`:` on Linux). Relative plugin directories in the file are resolved
 * against the file's folder, in the environment against the working
 * directory.
 */
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { delimiter, dirname, resolve } from "node:path";
import { z } from "zod";
import { numberSetting, wholeNumberSetting } from "../../shared/config/number-setting.js";

const bool = z.union([z.boolean(), z.enum(["true", "false", "1", "0", "yes", "no"]).transform((v) => v === "true" || v === "1" || v === "yes")]);
const int = wholeNumberSetting;

/** Where a format's `read`/`write` run: a thread of the worker pool, or the service's own event loop (debugging, light formats). */
export const formatModeSchema = z.enum(["workers", "in-thread"]);
export type FormatMode = z.infer<typeof formatModeSchema>;

/** `csv=workers,json=in-thread` (the environment's form) → `{ csv: "workers", json: "in-thread" }`. */
function formatModeList(value: unknown): unknown {
  if (typeof value !== "string") return value;
  return Object.fromEntries(
    value
      .split(",")
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => {
        const at = part.indexOf("=");
        return at < 0 ? [part, ""] : [part.slice(0, at).trim(), part.slice(at + 1).trim()];
      }),
  );
}

/**
 * Format workers (services/transfer/plugins/workers/): plugins' read/write
 * run off the service's event loop, one job per thread, with a time limit on
 * silence and a heap limit per thread, so a slow or broken plugin neither
 * stalls RPCs nor takes the service down.
 */
export const formatWorkersSchema = z
  .object({
    mode: formatModeSchema.optional().describe("`workers` or `in-thread` for every format (see [Format workers](#format-workers))").meta({ defaultText: "each format's own" }),
    formats: z
      .preprocess(formatModeList, z.record(z.string().min(1), formatModeSchema))
      .default({})
      .describe("mode per format (environment: `csv=workers,json=in-thread`); wins over `mode`. Without either: shipped formats in-thread, others in workers"),
    poolSize: int(1, 256)
      .default(() => availableParallelism())
      .describe("worker threads kept ready between jobs (they start on demand)")
      .meta({ defaultText: "number of cores" }),
    maxWorkers: int(1, 1024).optional().describe("most threads (jobs in workers) at once; later jobs wait").meta({ defaultText: "max(8, 4 × poolSize)" }),
    timeLimitMs: int(100).default(30_000).describe("longest silence of a plugin that owes progress before its thread is stopped and its job fails, ms"),
    memoryLimitMb: int(16).default(256).describe("heap (old generation) limit of each worker thread, MiB"),
    niceness: int(0, 19)
      .default(10)
      .describe(
        "how much lower each worker thread's CPU priority is than the service's (added to its nice value; Linux, where a thread has one of its own), so that the event loop answers first when cores are short",
      ),
  })
  .strict()
  .refine((w) => w.maxWorkers === undefined || w.maxWorkers >= w.poolSize, { message: "maxWorkers must be at least poolSize", path: ["maxWorkers"] });

export type FormatWorkersConfig = z.infer<typeof formatWorkersSchema>;

/**
 * How running jobs keep their records true across instances (jobs/job-registry.ts):
 * progress writes, leases, sweeps for jobs of stopped instances, cancel requests.
 */
export const jobsSchema = z
  .object({
    progressSaveMs: int(0, 60_000).default(1_000).describe("shortest time between two writes of a running job's counts, ms"),
    heartbeatMs: int(50, 600_000).default(5_000).describe("how often an instance renews the leases of the jobs it runs, ms"),
    leaseMs: int(200, 3_600_000).default(30_000).describe("how long a job stays alive without a renewal; after that another instance may fail it as stopped, ms (at least 3 × heartbeatMs)"),
    sweepMs: int(50, 3_600_000).default(15_000).describe("how often an instance looks for jobs whose lease expired (and once when it starts), ms"),
    cancelPollMs: int(50, 60_000).default(1_000).describe("how often an instance looks for cancel requests for its jobs (CancelJob answered by another instance), ms"),
    watchPollMs: int(20, 60_000).default(250).describe("how often WatchJob reads a watched job's record and its new row errors from the job store, ms"),
  })
  .strict()
  .refine((j) => j.leaseMs >= 3 * j.heartbeatMs, { message: "leaseMs must be at least 3 × heartbeatMs, or a live job could be taken for stopped", path: ["leaseMs"] })
  .refine((j) => j.progressSaveMs < j.leaseMs, { message: "progressSaveMs must be shorter than leaseMs", path: ["progressSaveMs"] });

export type JobsConfig = z.infer<typeof jobsSchema>;

export const transferConfigSchema = z
  .object({
    enabled: bool.default(true).describe("module enabled; when off every transfer call answers UNAVAILABLE / 503"),
    host: z.string().min(1).default("127.0.0.1").describe("listen address"),
    port: int(0, 65535).default(8000).describe("listen port (gRPC, Connect and HTTP/1.1 on one port)"),
    recordsUrl: z
      .url({ protocol: /^https?$/, error: "recordsUrl must be an http:// or https:// URL" })
      .default("http://127.0.0.1:50051")
      .describe("base URL of the records service (gRPC over h2c)"),
    mongodbUri: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, "mongodbUri must start with mongodb:// or mongodb+srv://")
      .optional()
      .describe("the MongoDB-compatible server of the transfer service's own database")
      .meta({ defaultText: "(required to run the server)" }),
    database: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,63}$/, "database must be a plain database name")
      .default("dataexchange_transfer")
      .describe("the transfer service's own database (jobs, row errors, staging, audit trail) on `mongodbUri`"),
    importMaxFileMb: numberSetting(z.number().positive()).default(50).describe("largest import file, MiB (fractions allowed)"),
    importMaxRowBytes: int(64)
      .default(1 << 20)
      .describe("largest single row of an import file, bytes")
      .meta({ defaultText: "`1048576` (1 MiB)" }),
    importMaxColumns: int(1).default(1000).describe("most columns a row of an import file may have"),
    // A bundle import's ZIP (or workbook) is refused from its table of contents past any of these (zip bombs).
    bundleMaxEntries: int(1).default(10_000).describe("most entries the ZIP archive of a bundle import may list"),
    bundleMaxUnpackedMb: numberSetting(z.number().positive()).default(4096).describe("largest total unpacked size of a bundle import's ZIP entries, MiB"),
    bundleMaxRatio: int(2).default(1000).describe("largest unpacked : packed ratio of a bundle import's ZIP entry over 1 MiB"),
    /**
     * Records per batch written to the records service. Each import holds
     * about three batches (the one being filled, `importWritesInFlight` sent),
     * and the records service one more per batch it writes: 500 keeps 20
     * concurrent jobs under 250 MB per service (bench section `concurrency`).
     */
    importBatchSize: int(1, 10_000).default(500).describe("records per batch written to the records service"),
    importWritesInFlight: int(1, 8).default(2).describe("batches an import sends before it waits for the oldest answer"),
    nestedDelimiter: z.string().min(1).max(4).default(".").describe("joins nested keys into flat column names in tabular files (`details.device`)"),
    strictImportByDefault: bool.default(false).describe("whether imports that do not say are all-or-nothing"),
    exportChangeOverlapSeconds: int(0, 86_400)
      .default(300)
      .describe(
        "how long before an export's start its high-water mark lies, so that the next incremental export (`changed_since`) also gets the writes that were under way (and clocks that differ between hosts)",
      ),
    exportLoggingEnabled: bool.default(true).describe("audit events for exports (imports and writes are always audited)"),
    pluginDirs: z
      .array(z.string().min(1))
      .default([])
      .describe("extra plugin folders, read after formats/ (environment: separated by `:`; relative ones against the file's folder, or the working directory)"),
    maxStoredRowErrors: int(100).default(100_000).describe("row errors kept per job; later ones are only counted"),
    formatWorkers: formatWorkersSchema.default(() => formatWorkersSchema.parse({})),
    jobs: jobsSchema.default(() => jobsSchema.parse({})),
  })
  .strict();

export type TransferConfig = z.infer<typeof transferConfigSchema>;
export type TransferConfigInput = z.input<typeof transferConfigSchema>;

/** A config key, or `formatWorkers.<key>` / `jobs.<key>` for the nested settings. */
export type ConfigKey = keyof TransferConfig | `formatWorkers.${keyof FormatWorkersConfig}` | `jobs.${keyof JobsConfig}`;

/** Environment variable → config key. */
export const ENV_OVERRIDES: Readonly<Record<string, ConfigKey>> = {
  TRANSFER_ENABLED: "enabled",
  TRANSFER_HOST: "host",
  TRANSFER_PORT: "port",
  TRANSFER_RECORDS_URL: "recordsUrl",
  MONGODB_URI: "mongodbUri",
  TRANSFER_DATABASE: "database",
  TRANSFER_IMPORT_MAX_FILE_MB: "importMaxFileMb",
  TRANSFER_IMPORT_MAX_ROW_BYTES: "importMaxRowBytes",
  TRANSFER_IMPORT_MAX_COLUMNS: "importMaxColumns",
  TRANSFER_BUNDLE_MAX_ENTRIES: "bundleMaxEntries",
  TRANSFER_BUNDLE_MAX_UNPACKED_MB: "bundleMaxUnpackedMb",
  TRANSFER_BUNDLE_MAX_RATIO: "bundleMaxRatio",
  TRANSFER_IMPORT_BATCH_SIZE: "importBatchSize",
  TRANSFER_IMPORT_WRITES_IN_FLIGHT: "importWritesInFlight",
  TRANSFER_NESTED_DELIMITER: "nestedDelimiter",
  TRANSFER_STRICT_IMPORT_BY_DEFAULT: "strictImportByDefault",
  TRANSFER_EXPORT_CHANGE_OVERLAP_SECONDS: "exportChangeOverlapSeconds",
  TRANSFER_EXPORT_LOGGING_ENABLED: "exportLoggingEnabled",
  TRANSFER_PLUGIN_DIRS: "pluginDirs",
  TRANSFER_MAX_STORED_ROW_ERRORS: "maxStoredRowErrors",
  TRANSFER_FORMAT_WORKERS_MODE: "formatWorkers.mode",
  TRANSFER_FORMAT_WORKERS_FORMATS: "formatWorkers.formats",
  TRANSFER_FORMAT_WORKERS_POOL_SIZE: "formatWorkers.poolSize",
  TRANSFER_FORMAT_WORKERS_MAX_WORKERS: "formatWorkers.maxWorkers",
  TRANSFER_FORMAT_WORKERS_TIME_LIMIT_MS: "formatWorkers.timeLimitMs",
  TRANSFER_FORMAT_WORKERS_NICENESS: "formatWorkers.niceness",
  TRANSFER_FORMAT_WORKERS_MEMORY_LIMIT_MB: "formatWorkers.memoryLimitMb",
  TRANSFER_JOBS_PROGRESS_SAVE_MS: "jobs.progressSaveMs",
  TRANSFER_JOBS_HEARTBEAT_MS: "jobs.heartbeatMs",
  TRANSFER_JOBS_LEASE_MS: "jobs.leaseMs",
  TRANSFER_JOBS_WATCH_POLL_MS: "jobs.watchPollMs",
  TRANSFER_JOBS_SWEEP_MS: "jobs.sweepMs",
  TRANSFER_JOBS_CANCEL_POLL_MS: "jobs.cancelPollMs",
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
    const [top, nested] = key.split(".") as [string, string | undefined];
    if (nested !== undefined) {
      const current = merged[top];
      merged[top] = { ...(typeof current === "object" && current !== null ? current : {}), [nested]: value };
    } else {
      merged[top] =
        key === "pluginDirs"
          ? value
              .split(delimiter)
              .filter(Boolean)
              .map((d) => resolve(cwd, d))
          : value;
    }
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

/** The zip-bomb limits a bundle import's archive is held to (core/bundle-archive.ts). */
export function bundleZipLimits(config: TransferConfig): { maxEntries: number; maxUncompressedBytes: number; maxRatio: number } {
  return { maxEntries: config.bundleMaxEntries, maxUncompressedBytes: Math.floor(config.bundleMaxUnpackedMb * 1024 * 1024), maxRatio: config.bundleMaxRatio };
}
