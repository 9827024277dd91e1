/**
 * What every section of a run shares: options, the FerretDB server, the two
 * benchmark databases, the data files, and how to start a fresh records
 * service on a database.
 */
import type { MongoClient, Db } from "mongodb";
import { indexesFor } from "../../services/records/store/collections.js";
import { servesSecondaryIndexes } from "../../services/records/store/server-kind.js";
import { ENTITIES, type EntityName } from "../../services/domain/index.js";
import { startService, type Service } from "./processes.js";

export interface BenchOptions {
  n: number;
  /** Rounds for the rows that touch the database. */
  rounds: number;
  /** Rounds for plugins alone (cheap, so always at least 3). */
  pluginRounds: number;
  /** N of the upsert rows (each batch's existence look-up is a full scan on FerretDB-SQLite, so upsert is quadratic there). */
  upsertN: number;
  /** N of the re-import rows whose rows are stored as they are (section reimport). */
  reimportN: number;
  /** N of the re-import rows whose every row changes a stored record. */
  changedN: number;
  /** N of the corrected-file re-import rows (one row in 100 changed). */
  correctedN: number;
  /** The re-import rows to run (`--reimport-rows`); undefined: all of them. */
  reimportRows?: Set<string>;
  quick: boolean;
  sections: Set<string>;
  backend: "sqlite" | "postgresql";
  postgresqlUrl?: string;
  /** Node flags for our service processes (e.g. --cpu-prof). */
  serviceFlags: string[];
  /** Node flags for the records service only / the transfer service only. */
  recordsFlags: string[];
  transferFlags: string[];
  /** Run the services from their TypeScript sources under tsx instead of the compiled build (`--from-source`). */
  fromSource: boolean;
  /** Pause between a mixed-load prober's calls, ms (`--probe-every-ms`). */
  probeEveryMs: number;
  /** Nice value of FerretDB and the job clients during the mixed load; 0 leaves them as they are (`--colocated-nice`). */
  colocatedNice: number;
  resultsDir: string;
}

export interface BenchContext {
  options: BenchOptions;
  uri: string;
  /** FerretDB's process. */
  databasePid: number;
  client: MongoClient;
  /** Holds N sessions (read-only during the run). */
  exportDb: Db;
  /** Holds only users and courses; sessions are dropped before every import. */
  importDb: Db;
  tmp: string;
  files: { csvN: string; csvTenth: string; csvUpsert: string };
  log(message: string): void;
}

export const EXPORT_DB = "bench_export";
export const IMPORT_DB = "bench_import";

/** A fresh records service process on `database`, so its peak RSS covers one run only. */
export function startRecords(ctx: BenchContext, database: string): Promise<Service> {
  return startService({
    name: "records",
    entry: "bench/lib/records-main.ts",
    env: { MONGODB_URI: ctx.uri, RECORDS_DATABASE: database, RECORDS_PORT: "0", RECORDS_HOST: "127.0.0.1" },
    ready: /listening on (http:\/\/[^\s]+)/,
    nodeFlags: [...ctx.options.serviceFlags, ...ctx.options.recordsFlags],
    fromSource: ctx.options.fromSource,
  });
}

/**
 * The records service's own indexes, as it would create them on this server
 * (on FerretDB 1.x only the unique ones), so that the direct baselines write
 * into collections indexed alike; one createIndexes command per index:
 * FerretDB 1.24 drops the connection (a server-side panic) when one command
 * names several indexes that all exist already.
 */
export async function createRecordsIndexes(db: Db, names: EntityName[] = Object.keys(ENTITIES) as EntityName[]): Promise<void> {
  const secondary = await servesSecondaryIndexes(db);
  for (const name of names) for (const index of indexesFor(ENTITIES[name], secondary)) await db.collection(name).createIndexes([index]);
}

/** Empties the import database's sessions (drop, then the records service's own indexes again). */
export async function resetImportSessions(ctx: BenchContext): Promise<void> {
  const exists = (await ctx.importDb.listCollections({ name: "sessions" }, { nameOnly: true }).toArray()).length > 0;
  if (exists) await ctx.importDb.collection("sessions").drop();
  await createRecordsIndexes(ctx.importDb, ["sessions"]);
}
