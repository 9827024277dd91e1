/**
 * What the two many-jobs sections (`concurrency`, `mixed-load`) prepare alike:
 * `perJob` stored sessions to export, `imports` CSV files of `perJob` new
 * sessions each, a token, and a reset that puts the sessions back to the
 * exported ones before each run.
 */
import { join } from "node:path";
import type { Db } from "mongodb";
import { createRecordsIndexes, type BenchContext } from "./context.js";
import { seedReferences, seedSessions, writeSessionsCsv } from "./data.js";
import { mintToken } from "../sections/e2e.js";

export interface ConcurrentJobsSetup {
  db: Db;
  files: { file: string; rows: number }[];
  token: string | undefined;
  reset(): Promise<void>;
}

export async function prepareConcurrentJobs(ctx: BenchContext, dbName: string, perJob: number, imports: number, filePrefix: string): Promise<ConcurrentJobsSetup> {
  const db = ctx.client.db(dbName);
  await createRecordsIndexes(db);
  await seedReferences(db);
  const files = Array.from({ length: imports }, (_, k) => ({ file: join(ctx.tmp, `${filePrefix}-${k}.csv`), rows: perJob }));
  await Promise.all(files.map((f, k) => writeSessionsCsv(f.file, perJob, 0, perJob * (k + 1))));
  const token = await mintToken(ctx);
  // A drop: a deleteMany of 100k keys is too many SQL variables for FerretDB-SQLite.
  const reset = async () => {
    await db
      .collection("sessions")
      .drop()
      .catch(() => false);
    await createRecordsIndexes(db, ["sessions"]);
    await seedSessions(db, perJob);
  };
  return { db, files, token, reset };
}
