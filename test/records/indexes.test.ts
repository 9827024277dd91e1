/**
 * Starting a service again on existing data must work: index creation is
 * idempotent on the real server (FerretDB 1.24 drops the connection when one
 * createIndexes command names several existing indexes).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureIndexes } from "../../services/records/store/collections.js";
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
    expect(names).toEqual(["_id_", "by_role", "by_status", "by_updatedAt", "key_email", "unique_username"]);
    expect(await t.db.command({ ping: 1 })).toMatchObject({ ok: 1 });
  });
});
