import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase, type TestDatabase } from "./database.js";

describe("the test database", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase("smoke");
  });
  afterAll(async () => t?.close());

  it("is a real server that stores and finds documents", async () => {
    await t.db.collection("c").insertMany([{ a: 1 }, { a: 2 }]);
    expect(await t.db.collection("c").countDocuments({ a: { $gt: 1 } })).toBe(1);
  });
});
