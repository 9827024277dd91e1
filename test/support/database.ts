/**
 * Gives each test file its own database on the run's real server, so files can
 * run in parallel without seeing each other's records.
 */
import { randomBytes } from "node:crypto";
import { MongoClient, type Db } from "mongodb";
import { inject } from "vitest";

export interface TestDatabase {
  uri: string;
  client: MongoClient;
  db: Db;
  name: string;
  /** Drops the database and closes the client. */
  close(): Promise<void>;
}

export async function openTestDatabase(prefix = "t"): Promise<TestDatabase> {
  const uri = inject("mongoUri");
  const name = `${prefix}_${randomBytes(5).toString("hex")}`;
  const client = new MongoClient(uri);
  await client.connect();
  const db = client.db(name);
  return {
    uri,
    client,
    db,
    name,
    async close() {
      await db.dropDatabase().catch(() => undefined);
      await client.close();
    },
  };
}
