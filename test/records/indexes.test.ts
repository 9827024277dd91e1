/**
 * Starting a service again on existing data must work: index creation is
 * idempotent on the real server (FerretDB 1.24 drops the connection when one
 * createIndexes command names several existing indexes). And each server gets
 * the indexes it uses: FerretDB 1.x only the unique ones.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENTITIES } from "../../services/domain/index.js";
import { ensureIndexes, indexesFor } from "../../services/records/store/collections.js";
import { servesSecondaryIndexes, servesSecondaryIndexesPer } from "../../services/records/store/server-kind.js";
import { JobStore } from "../../services/transfer/jobs/job-store.js";
import { AuditLog } from "../../services/shared/audit/index.js";
import { openTestDatabase, type TestDatabase } from "../support/database.js";

let t: TestDatabase;
beforeAll(async () => {
  t = await openTestDatabase("indexes");
});
afterAll(async () => t?.close());

describe("index creation at start", () => {
  it("can run again and again on a database that already has the indexes", async () => {
    for (let run = 0; run < 3; run++) {
      await ensureIndexes(t.db);
      await new JobStore(t.db).ensureIndexes();
      await new AuditLog(t.db, "transfer").ensureIndexes();
    }
    const names = (await t.db.collection("users").indexes()).map((i) => i.name).sort();
    // FerretDB 1.24, the test server, queries through no secondary index: only the unique ones are made.
    expect(names).toEqual(["_id_", "key_email", "unique_username"]);
    expect(await t.db.command({ ping: 1 })).toMatchObject({ ok: 1 });
  });
});

describe("which indexes a server gets", () => {
  it("are the unique ones alone on FerretDB 1.x, and the secondary ones too on MongoDB and FerretDB 2", async () => {
    expect(await servesSecondaryIndexes(t.db)).toBe(false);
    expect(servesSecondaryIndexesPer({ version: "7.0.14", ok: 1 })).toBe(true);
    expect(servesSecondaryIndexesPer({ version: "7.0.77", ferretdbVersion: "v1.24.2" })).toBe(false);
    expect(servesSecondaryIndexesPer({ version: "7.0.77", ferretdbVersion: "1.9.0" })).toBe(false);
    expect(servesSecondaryIndexesPer({ version: "7.0.77", ferretdbVersion: "v2.1.0" })).toBe(true);
    expect(indexesFor(ENTITIES.users, false).map((i) => i.name)).toEqual(["key_email", "unique_username"]);
    expect(indexesFor(ENTITIES.users, true).map((i) => i.name)).toEqual(["key_email", "unique_username", "by_status", "by_role", "by_updatedAt"]);
    expect(indexesFor(ENTITIES.sessions, true).map((i) => i.name)).toEqual(["key_sessionId", "by_userId", "by_courseId", "by_status", "by_startedAt", "by_updatedAt"]);
  });

  it("drops at start the secondary indexes an earlier version made on FerretDB 1.x, and keeps every other index", async () => {
    const sessions = t.db.collection("sessions");
    for (const index of [...indexesFor(ENTITIES.sessions, true), { key: { note: 1 }, name: "someone_elses" }]) await sessions.createIndexes([index]);
    await ensureIndexes(t.db, ["sessions"]);
    expect((await sessions.indexes()).map((i) => i.name).sort()).toEqual(["_id_", "key_sessionId", "someone_elses"]);
    await ensureIndexes(t.db, ["sessions"]);
    expect((await sessions.indexes()).map((i) => i.name).sort()).toEqual(["_id_", "key_sessionId", "someone_elses"]);
  });
});
