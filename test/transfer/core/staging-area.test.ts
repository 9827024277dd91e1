/** The staging area behind strict imports, on a real FerretDB database. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStagingArea, type StagedRow } from "../../../services/transfer/core/index.js";
import { openTestDatabase, type TestDatabase } from "../../support/database.js";

let t: TestDatabase;

beforeAll(async () => {
  t = await openTestDatabase("staging");
});
afterAll(async () => t?.close());

async function collections(): Promise<string[]> {
  return (await t.db.listCollections().toArray()).map((c) => c.name);
}

describe("a staging area", () => {
  it("replays rows in the order they were added, in batches of the asked size", async () => {
    const staging = createStagingArea(t.db, "order");
    for (let start = 0; start < 250; start += 70) {
      await staging.add(
        Array.from({ length: Math.min(70, 250 - start) }, (_, i) => ({
          row: start + i + 1,
          line: start + i + 2,
          record: { n: start + i, at: new Date(1_700_000_000_000 + i), nested: { a: [1, "b"] } },
        })),
      );
    }
    expect(staging.size).toBe(250);
    const sizes: number[] = [];
    const rows: StagedRow[] = [];
    for await (const batch of staging.replay(100)) {
      sizes.push(batch.length);
      rows.push(...batch);
    }
    expect(sizes).toEqual([100, 100, 50]);
    expect(rows.map((r) => r.row)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(rows[3]).toEqual({ row: 4, line: 5, record: { n: 3, at: new Date(1_700_000_000_003), nested: { a: [1, "b"] } } });
    await staging.drop();
    expect(await collections()).not.toContain("staging_order");
  });

  it("keeps the order batches were added in when adds overlap (an import keeps several batches in flight)", async () => {
    const staging = createStagingArea(t.db, "overlap");
    const batch = (b: number) => Array.from({ length: 40 }, (_, i) => ({ row: b * 40 + i + 1, record: { n: b * 40 + i } }));
    await Promise.all([0, 1, 2, 3, 4].map((b) => staging.add(batch(b))));
    expect(staging.size).toBe(200);
    const rows: StagedRow[] = [];
    for await (const part of staging.replay(64)) rows.push(...part);
    expect(rows.map((r) => r.row)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    await staging.drop();
  });

  it("keeps secrets sealed in the database and gives them back on replay", async () => {
    const staging = createStagingArea(t.db, "secrets");
    await staging.add([
      { row: 1, record: { email: "a@example.org" }, secrets: { password: "open sesame 123" } },
      { row: 2, record: { email: "b@example.org" } },
    ]);
    const raw = JSON.stringify(await t.db.collection("staging_secrets").find({}).toArray());
    expect(raw).not.toContain("open sesame");
    const replayed: StagedRow[] = [];
    for await (const batch of staging.replay(10)) replayed.push(...batch);
    expect(replayed).toEqual([
      { row: 1, record: { email: "a@example.org" }, secrets: { password: "open sesame 123" } },
      { row: 2, record: { email: "b@example.org" } },
    ]);
    // Another staging area (another process, another key) cannot unseal them.
    const other = createStagingArea(t.db, "secrets_other");
    await other.add([{ row: 3, record: {} }]);
    const sealed = await t.db.collection("staging_secrets").findOne({ row: 1 });
    await t.db.collection("staging_secrets_other").insertOne({ ...sealed, _id: 1 } as never);
    await expect(async () => {
      for await (const _ of other.replay(10));
    }).rejects.toThrow();
    await staging.drop();
    await other.drop();
  });

  it("starts clean when a crashed run of the same job left its collection behind", async () => {
    const crashed = createStagingArea(t.db, "rerun");
    await crashed.add([{ row: 1, record: { old: true } }]);
    const rerun = createStagingArea(t.db, "rerun");
    await rerun.add([{ row: 1, record: { old: false } }]);
    const replayed: StagedRow[] = [];
    for await (const batch of rerun.replay(10)) replayed.push(...batch);
    expect(replayed).toEqual([{ row: 1, record: { old: false } }]);
    await rerun.drop();
  });

  it("closes its cursor when the replay is abandoned, and drops safely twice or when never used", async () => {
    const staging = createStagingArea(t.db, "abandon");
    await staging.add(Array.from({ length: 30 }, (_, i) => ({ row: i + 1, record: { i } })));
    for await (const batch of staging.replay(10)) {
      expect(batch).toHaveLength(10);
      break;
    }
    await staging.drop();
    await staging.drop();
    await createStagingArea(t.db, "unused").drop();
    expect(await collections()).not.toContain("staging_abandon");
  });

  it("drops its collection after the adds still running, which would otherwise create it again (a cancelled strict import)", async () => {
    const staging = createStagingArea(t.db, "cancelled");
    // A batch's write failed (the job was cancelled) while its rows were still being staged: the import drops at once.
    const adding = staging.add(Array.from({ length: 200 }, (_, i) => ({ row: i + 1, record: { i } })));
    await staging.drop();
    await adding;
    expect(await collections()).not.toContain("staging_cancelled");
  });

  it("refuses a job id that could escape its collection name", () => {
    expect(() => createStagingArea(t.db, "a.b")).toThrow(TypeError);
    expect(() => createStagingArea(t.db, "")).toThrow(TypeError);
  });
});
