/**
 * Starts one real FerretDB for the whole test run (fresh data directory, free
 * port) and stops it afterwards, pass or fail. MONGODB_URI replaces it with any
 * MongoDB deployment; DX_TEST_BACKEND=postgresql runs FerretDB on the machine's
 * PostgreSQL (a fresh database per run, dropped at the end).
 *
 * Around it, the log secrets check: everything the run logs is captured, and
 * at the end scanned for the secrets the run used (log-check-setup.ts).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startFerretDb, type RunningFerretDb } from "../../scripts/lib/ferretdb.js";
import { startRunLogCapture } from "./log-check-setup.js";

declare module "vitest" {
  export interface ProvidedContext {
    mongoUri: string;
  }
}

const postgresAdminUrl = process.env.DX_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432";

function psql(sql: string): void {
  execFileSync("psql", [`${postgresAdminUrl}/postgres`, "-v", "ON_ERROR_STOP=1", "-qc", sql], { stdio: "pipe" });
}

export default async function setup(project: TestProject) {
  // First, so that every worker and every service it spawns logs into the capture (log-check-setup.ts).
  const capture = startRunLogCapture();
  let stopDatabase: () => Promise<void>;
  try {
    stopDatabase = await startDatabase(project);
  } catch (error) {
    capture.discard();
    throw error;
  }
  return async () => {
    try {
      await stopDatabase();
    } finally {
      await capture.finish(project);
    }
  };
}

/** The run's MongoDB: MONGODB_URI, or a fresh FerretDB; resolves to what stops it. */
async function startDatabase(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.MONGODB_URI) {
    project.provide("mongoUri", process.env.MONGODB_URI);
    return async () => undefined;
  }
  const backend = process.env.DX_TEST_BACKEND === "postgresql" ? "postgresql" : "sqlite";
  // DX_TEST_RUN_ID names this run's FerretDB directory, so .ci/run can tell its own leftovers from other runs'.
  const dataDir = mkdtempSync(join(tmpdir(), `dx-test-ferretdb-${process.env.DX_TEST_RUN_ID ?? "local"}-`));
  let pgDatabase: string | undefined;
  let server: RunningFerretDb;
  try {
    if (backend === "postgresql") {
      pgDatabase = `dx_test_${process.pid}_${Date.now()}`;
      psql(`CREATE DATABASE ${pgDatabase}`);
    }
    server = await startFerretDb({
      dataDir,
      backend,
      postgresqlUrl: pgDatabase ? `${postgresAdminUrl}/${pgDatabase}` : undefined,
    });
  } catch (error) {
    if (pgDatabase) psql(`DROP DATABASE IF EXISTS ${pgDatabase} WITH (FORCE)`);
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  project.provide("mongoUri", server.uri);
  return async () => {
    await server.stop();
    if (pgDatabase) psql(`DROP DATABASE IF EXISTS ${pgDatabase} WITH (FORCE)`);
    rmSync(dataDir, { recursive: true, force: true });
  };
}
