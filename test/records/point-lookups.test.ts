/**
 * Looking up a few records by value (services/records/store/point-lookups.ts):
 * one equality query per value where the server evaluates equality but not
 * `$in` (FerretDB on PostgreSQL), one `$in` elsewhere — and the same
 * documents either way.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENTITIES, keyString } from "../../services/domain/index.js";
import { findExisting, writeBatch } from "../../services/records/store/batch-writer.js";
import { ensureIndexes, collectionFor } from "../../services/records/store/collections.js";
import { findByPoints, lookupStrategy, POINT_LOOKUP_LIMIT } from "../../services/records/store/point-lookups.js";
import { openTestDatabase, type TestDatabase } from "../support/database.js";

/** What the run's server is: the global setup starts FerretDB on SQLite, or on PostgreSQL, unless MONGODB_URI names a MongoDB. */
const server = process.env.MONGODB_URI ? "mongodb" : process.env.DX_TEST_BACKEND === "postgresql" ? "ferretdb-postgresql" : "ferretdb-sqlite";

let t: TestDatabase;
const created = new Date("2024-03-01T09:00:00.000Z");

beforeAll(async () => {
  t = await openTestDatabase("records_point_lookups");
  await ensureIndexes(t.db);
  const users = Array.from({ length: 60 }, (_, n) => ({ email: `u${n}@example.org`, username: `u${n}`, firstName: "Ada", lastName: `Number ${n}`, role: "student", createdAt: created }));
  expect((await writeBatch(t.db, ENTITIES.users, users, { mode: "insert", dryRun: false, ordered: false })).inserted).toBe(60);
  const courses = [
    { code: "C1", title: "One" },
    { code: "C2", title: "Two" },
  ];
  await writeBatch(t.db, ENTITIES.courses, courses, { mode: "insert", dryRun: false, ordered: false });
  const enrollments = Array.from({ length: 10 }, (_, n) => ({ userId: `u${n}`, courseId: n % 2 ? "C1" : "C2", role: "student", status: "active" }));
  expect((await writeBatch(t.db, ENTITIES.enrollments, enrollments, { mode: "insert", dryRun: false, ordered: false })).inserted).toBe(10);
}, 120_000);
afterAll(async () => t?.close());

function emails(...ns: number[]): string[] {
  return ns.map((n) => `u${n}@example.org`);
}

describe("which way a few values are looked up", () => {
  it(`is asked of the server: ${server === "ferretdb-postgresql" ? "one equality query per value" : "one $in"} on ${server}`, async () => {
    const users = collectionFor(t.db, ENTITIES.users);
    const values = emails(1, 2, 3);
    const strategy = await lookupStrategy(
      t.db,
      users,
      { email: { $in: values } },
      values.map((email) => ({ email })),
    );
    expect(strategy).toBe(server === "ferretdb-postgresql" ? "point" : "in");
  });

  it("is one $in for more values than the limit, whatever the server", async () => {
    const users = collectionFor(t.db, ENTITIES.users);
    const values = Array.from({ length: POINT_LOOKUP_LIMIT + 1 }, (_, n) => `x${n}@example.org`);
    expect(
      await lookupStrategy(
        t.db,
        users,
        { email: { $in: values } },
        values.map((email) => ({ email })),
      ),
    ).toBe("in");
  });
});

describe("the documents found", () => {
  it("are those the $in finds, stored and missing values mixed", async () => {
    const users = collectionFor(t.db, ENTITIES.users);
    const values = [...emails(0, 7, 59), "nobody@example.org"];
    const found = await findByPoints(
      t.db,
      users,
      { email: { $in: values } },
      values.map((email) => ({ email })),
      { projection: { _id: 0, email: 1, username: 1 } },
    );
    const expected = await users.find({ email: { $in: values } }, { projection: { _id: 0, email: 1, username: 1 } }).toArray();
    expect(found.map((d) => d.email).sort()).toEqual(emails(0, 59, 7));
    expect(sortBy(found, "email")).toEqual(sortBy(expected, "email"));
  });

  it("are none for no values, without asking the server", async () => {
    expect(await findByPoints(t.db, collectionFor(t.db, ENTITIES.users), { email: { $in: [] } }, [])).toEqual([]);
  });

  it("by compound keys are exactly the stored records with those keys", async () => {
    const stored = await findExisting(t.db, ENTITIES.enrollments, [
      { userId: "u1", courseId: "C1" },
      { userId: "u2", courseId: "C2" },
      // The user and the course exist, but not this pair: the $in over-fetches u1/C2 and u2/C1, which must not count.
      { userId: "u1", courseId: "C2" },
      { userId: "u2", courseId: "C2" },
    ]);
    expect([...stored.keys()].sort()).toEqual([keyString(["u1", "C1"]), keyString(["u2", "C2"])].sort());
  });

  it("by record ids (an activity entry's key) are the stored ones", async () => {
    const entry = { userId: "u1", action: "view", at: created };
    const written = await writeBatch(t.db, ENTITIES.activity, [entry, { ...entry, action: "submit" }], { mode: "insert", dryRun: false, ordered: false });
    expect(written.errors).toEqual([]);
    expect(written.inserted).toBe(2);
    const ids = (await collectionFor(t.db, ENTITIES.activity).find({}).toArray()).map((d) => String(d._id));
    const stored = await findExisting(t.db, ENTITIES.activity, [{ id: ids[0] }, { id: ids[1] }, { id: "0123456789abcdef01234567" }]);
    expect([...stored.keys()].sort()).toEqual([...ids].sort());
  });
});

describe("writes that look up a few stored records", () => {
  it("tell unchanged, updated, new and a taken username apart as before", async () => {
    const result = await writeBatch(
      t.db,
      ENTITIES.users,
      [
        { email: "u3@example.org", username: "u3", firstName: "Ada", lastName: "Number 3", role: "student", createdAt: created },
        { email: "u4@example.org", username: "u4", firstName: "Grace", lastName: "Number 4", role: "student", createdAt: created },
        { email: "new@example.org", username: "new-user", firstName: "New", lastName: "User", role: "student", createdAt: created },
        { email: "other@example.org", username: "u5", firstName: "Taken", lastName: "Name", role: "student", createdAt: created },
      ],
      { mode: "upsert", dryRun: true, ordered: false },
    );
    expect({ inserted: result.inserted, updated: result.updated, unchanged: result.unchanged, failed: result.failed }).toEqual({ inserted: 1, updated: 1, unchanged: 1, failed: 1 });
    expect(result.errors.map((e) => `${e.index} ${e.field}: ${e.reason}`)).toEqual(['3 username: "u5" is already used by another user']);
  });

  it("refuse a reference to a user that is not stored, and accept the stored ones", async () => {
    const result = await writeBatch(
      t.db,
      ENTITIES.enrollments,
      [
        { userId: "u20", courseId: "C1", role: "student", status: "active" },
        { userId: "ghost", courseId: "C1", role: "student", status: "active" },
      ],
      { mode: "insert", dryRun: true, ordered: false },
    );
    expect({ inserted: result.inserted, failed: result.failed }).toEqual({ inserted: 1, failed: 1 });
    expect(JSON.stringify(result.errors)).toContain("ghost");
  });
});

function sortBy<T extends Record<string, unknown>>(docs: T[], field: string): T[] {
  return [...docs].sort((a, b) => String(a[field]).localeCompare(String(b[field])));
}
