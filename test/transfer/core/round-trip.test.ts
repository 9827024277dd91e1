/**
 * Export → import round trips through the shipped formats: every entity,
 * out of one records database and into an empty one, must come back as the
 * same records (server-assigned ids and update times aside).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EntityName } from "../../../services/domain/index.js";
import { comparable, exportAll, importAll, importSettings, openRecords, plugin, users, type RecordsFixture } from "./support.js";

const ORDER: EntityName[] = ["users", "courses", "enrollments", "sessions", "activity"];
const SECRET = "correct horse battery staple";

let source: RecordsFixture;
let target: RecordsFixture;

beforeAll(async () => {
  source = await openRecords("rt_src");
  target = await openRecords("rt_dst");
  await source.seed(
    "users",
    users(1, 6, (n) => (n <= 3 ? { password: `${SECRET} ${n}` } : n === 6 ? { role: "teacher", status: "suspended", createdAt: new Date("2020-02-29T12:34:56.789Z") } : {})),
  );
  await source.seed("courses", [
    {
      code: "C1",
      title: 'Intro, "quoted"\nline two — ünïcode ✓',
      description: "",
      category: "maths",
      startDate: new Date("2024-01-01T00:00:00Z"),
      endDate: new Date("2024-06-30T23:59:59.999Z"),
      visible: true,
    },
    { code: "C2", title: "Second", visible: false },
    { code: "C3.x:1", title: "Third" },
  ]);
  await source.seed("enrollments", [
    { userId: "user1", courseId: "C1" },
    { userId: "user2", courseId: "C1", role: "teacher", status: "completed", enrolledAt: new Date("2023-09-01T08:00:00Z") },
    { userId: "user3", courseId: "C2", status: "withdrawn" },
  ]);
  await source.seed("sessions", [
    { sessionId: "s1", userId: "user1", courseId: "C1", startedAt: new Date("2024-01-01T10:00:00Z"), endedAt: new Date("2024-01-01T11:30:00Z"), status: "completed", score: 71.5 },
    { sessionId: "s2", userId: "user2", courseId: "C1", startedAt: new Date("2024-01-02T10:00:00Z"), status: "active" },
    { sessionId: "s3@x", userId: "user3", courseId: "C2", startedAt: new Date("2024-01-03T10:00:00Z"), status: "pending", score: 0 },
  ]);
  await source.seed("activity", [
    {
      userId: "user1",
      sessionId: "s1",
      courseId: "C1",
      action: "view",
      at: new Date("2024-01-01T10:05:00Z"),
      details: { device: "mobile", clicks: 3, ratio: 0.25, tags: ["a", "b"], nested: { ok: true, none: null } },
    },
    { userId: "user1", sessionId: "s1", courseId: "C1", action: "quiz:submit", at: new Date("2024-01-01T10:20:00Z"), details: { answer: 'a "quoted", comma\nand newline' } },
    { userId: "user2", action: "login", at: new Date("2024-01-02T09:59:00Z") },
  ]);
});
afterAll(async () => {
  await source?.close();
  await target?.close();
});

describe.each(["csv", "json", "ndjson"])("a round trip through %s", (format) => {
  it("gives back identical records for every entity, and never exports a password", async () => {
    await target.clear();
    const p = await plugin(format);
    for (const entity of ORDER) {
      const file = await exportAll(source, entity, p);
      const text = file.toString("utf8");
      expect(text).not.toContain(SECRET);
      expect(text.toLowerCase()).not.toContain("password");
      const { summary, errors } = await importAll(target, file, importSettings(entity, p));
      expect(errors, `${entity} via ${format}`).toEqual([]);
      const expected = await source.readAll(entity);
      expect(summary).toMatchObject({ read: expected.length, inserted: expected.length, failed: 0, strictAborted: false, bytes: file.length });
      expect(comparable(entity, await target.readAll(entity)), `${entity} via ${format}`).toEqual(comparable(entity, expected));
    }
    expect(await target.db.collection("users").countDocuments({ passwordHash: { $exists: true } })).toBe(0);
  });
});

describe("a round trip through the same format twice", () => {
  it("reports every record unchanged when the export is imported back in upsert mode", async () => {
    const p = await plugin("csv");
    for (const entity of ["users", "courses", "enrollments", "sessions"] as const) {
      const file = await exportAll(source, entity, p);
      const { summary } = await importAll(source, file, importSettings(entity, p, { mode: "upsert" }));
      const count = await source.count(entity);
      expect(summary, entity).toMatchObject({ read: count, unchanged: count, inserted: 0, updated: 0, failed: 0 });
    }
  });

  it("reads a tabular export with a nested column back into the object field", async () => {
    const p = await plugin("csv");
    const file = await exportAll(source, "activity", p, { fields: ["userId", "action", "at", "details.device"] });
    const header = file.toString("utf8").split("\r\n")[0];
    expect(header).toBe("User id,Action,At,Details.device");
    await target.clear();
    await target.seed("users", users(1, 2));
    const { summary, errors } = await importAll(target, file, importSettings("activity", p));
    expect(errors).toEqual([]);
    expect(summary).toMatchObject({ read: 3, inserted: 3 });
    const details = (await target.readAll("activity")).map((r) => r.details);
    expect(details).toEqual([{ device: "mobile" }, undefined, undefined]);
  });
});
