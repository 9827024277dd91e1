/**
 * Gives each test file its own database on the run's real server, so files can
 * run in parallel without seeing each other's records.
 */
import { randomBytes } from "node:crypto";
import { MongoClient, type CommandStartedEvent, type Db, type Document } from "mongodb";
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

/**
 * Runs `work` against `t`'s database through a client of its own that reports
 * each command it sends, and returns the commands `keep` accepts, in order:
 * for tests that say which queries and writes a path makes, not only what it
 * stores.
 */
export async function commandsDuring(t: TestDatabase, keep: (event: CommandStartedEvent) => boolean, work: (db: Db) => Promise<void>): Promise<Document[]> {
  const client = await MongoClient.connect(t.uri, { monitorCommands: true });
  const commands: Document[] = [];
  client.on("commandStarted", (event) => {
    if (keep(event)) commands.push(event.command);
  });
  try {
    await work(client.db(t.name));
  } finally {
    await client.close();
  }
  return commands;
}
