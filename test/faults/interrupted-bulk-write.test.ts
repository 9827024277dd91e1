/**
 * A batch whose connection to the database is cut mid-write — before the
 * insert reached the server, or after the server stored it but before its
 * answer came back — is reported exactly as stored: the records service
 * settles it by the `_id`s it chose and sends again only what did not land
 * (services/records/store/send-writes.ts). Before the fix, the driver's
 * network error inside a MongoBulkWriteError (no write errors) read as "all
 * written". The cut is a real connection reset, made by a proxy in front of
 * the test run's FerretDB at the moment the test names.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "mongodb";
import { ENTITIES } from "../../services/domain/index.js";
import { WriteInterruptedError } from "../../services/records/errors.js";
import { writeBatch } from "../../services/records/store/batch-writer.js";
import type { TestDatabase } from "../support/database.js";
import type { CuttingProxy } from "./support/cutting-proxy.js";
import { openProxiedTestDatabase, type ProxiedDatabase } from "./support/proxied-database.js";

const courses = ENTITIES.courses;
const BATCH = 1_000;
const batch = (prefix: string, title = "Course") => Array.from({ length: BATCH }, (_, i) => ({ code: `${prefix}${String(i).padStart(4, "0")}`, title: `${title} ${i}` }));

describe("a bulk write whose connection is cut", () => {
  let database: ProxiedDatabase;
  let direct: TestDatabase;
  let proxy: CuttingProxy;
  let db: Db;
  beforeAll(async () => {
    database = await openProxiedTestDatabase("cut");
    ({ direct, proxy, db } = database);
  });
  afterEach(() => proxy.accept());
  afterAll(async () => {
    await database?.close();
  });
  const stored = (prefix: string) => direct.db.collection("courses").countDocuments({ code: { $gte: prefix, $lt: `${prefix}\uffff` } });

  it("before the insert reached the server: the batch is sent again and reported inserted once", async () => {
    const cut = proxy.cutNextInsert("request");
    const result = await writeBatch(db, courses, batch("REQ"), { mode: "insert", dryRun: false, ordered: false });
    await cut;
    expect(result.errors).toEqual([]);
    expect(result.inserted).toBe(BATCH);
    expect(await stored("REQ")).toBe(BATCH);
  });

  it("after the server stored it, before its answer: the stored inserts are found by their ids, not reported as existing records", async () => {
    const cut = proxy.cutNextInsert("answer");
    const result = await writeBatch(db, courses, batch("ANS"), { mode: "insert", dryRun: false, ordered: false });
    await cut;
    expect(result.errors).toEqual([]);
    expect(result.inserted).toBe(BATCH);
    expect(await stored("ANS")).toBe(BATCH);
  });

  it("in an ordered batch too: what landed is not sent again, so it does not stop the batch", async () => {
    const cut = proxy.cutNextInsert("answer");
    const result = await writeBatch(db, courses, batch("ORD").slice(0, 50), { mode: "insert", dryRun: false, ordered: true });
    await cut;
    expect(result.errors).toEqual([]);
    expect(result.inserted).toBe(50);
    expect(await stored("ORD")).toBe(50);
  });

  it("in an upsert over existing records: replacements are sent again (repeating them changes nothing) and reported updated", async () => {
    // Few replacements: FerretDB applies each one on its own, and slowly.
    const existing = batch("UPS").slice(0, 100);
    await writeBatch(direct.db, courses, existing, { mode: "insert", dryRun: false, ordered: false });
    const cut = proxy.cutNextInsert("answer");
    const renamed = existing.map((r) => ({ ...r, title: `Renamed ${r.title}` }));
    const result = await writeBatch(db, courses, [...renamed, ...batch("NEW")], { mode: "upsert", dryRun: false, ordered: false });
    await cut;
    expect(result.errors).toEqual([]);
    expect(result.inserted).toBe(BATCH);
    expect(result.updated).toBe(100);
    expect(await direct.db.collection("courses").countDocuments({ title: { $gte: "Renamed", $lt: "Renamed\uffff" } })).toBe(100);
    expect(await stored("NEW")).toBe(BATCH);
  });

  it("while the database stays away: UNAVAILABLE (WriteInterruptedError), and nothing of the batch is reported written", async () => {
    const cut = proxy.cutNextInsert("answer");
    const writing = writeBatch(db, courses, batch("AWAY"), { mode: "insert", dryRun: false, ordered: false });
    void writing.catch(() => undefined);
    await cut;
    proxy.refuse();
    const error = await writing.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WriteInterruptedError);
    expect((error as WriteInterruptedError).message).toMatch(/may or may not have been stored/);
    proxy.accept();
    // The server did store the batch (its answer was what got lost): a caller who retries learns it from the unique index.
    const again = await writeBatch(db, courses, batch("AWAY"), { mode: "insert", dryRun: false, ordered: false });
    expect(again.inserted).toBe(0);
    expect(again.errors.every((e) => e.code === "exists")).toBe(true);
  });
});
