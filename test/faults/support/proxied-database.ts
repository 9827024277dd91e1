/**
 * A database of the test run's own, reached two ways: directly (to set up
 * and check what is stored) and through a {@link CuttingProxy} (what the code
 * under test uses, so the test can reset its connection at a named command).
 * The courses collection has the records service's indexes.
 */
import { inject } from "vitest";
import { MongoClient, type Db } from "mongodb";
import { ensureIndexes } from "../../../services/records/store/collections.js";
import { openTestDatabase, type TestDatabase } from "../../support/database.js";
import { startCuttingProxy, type CuttingProxy } from "./cutting-proxy.js";

export interface ProxiedDatabase {
  direct: TestDatabase;
  proxy: CuttingProxy;
  /** The same database through the proxy (a short server-selection timeout, so a refused database fails fast). */
  db: Db;
  close(): Promise<void>;
}

export async function openProxiedTestDatabase(prefix: string): Promise<ProxiedDatabase> {
  const direct = await openTestDatabase(prefix);
  await ensureIndexes(direct.db, ["courses"]);
  // The first host's port: the proxy stands in for it, and the client talks to it alone (directConnection).
  const upstream = /^mongodb:\/\/(?:[^@/]*@)?[^:/,]+:(\d+)/.exec(inject("mongoUri"));
  const proxy = await startCuttingProxy(Number(upstream?.[1] ?? 27017));
  const client = new MongoClient(`${proxy.uri}?directConnection=true`, { serverSelectionTimeoutMS: 1_000 });
  return {
    direct,
    proxy,
    db: client.db(direct.name),
    async close() {
      await client.close();
      await proxy.close();
      await direct.close();
    },
  };
}
