/**
 * The OULAD seed, end to end through a Connect client: an in-memory router
 * transport in front of the real RecordsService class on a real FerretDB
 * database. Expected counts are computed here straight from the CSV files,
 * independently of the seed's readers.
 */
import { readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "csv-parse/sync";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { Entity, RecordsService } from "../../gen/dataexchange/records/v1/records_pb.js";
import { RecordsService as RecordsServiceImpl } from "../../services/records/records-service.js";
import { ensureIndexes } from "../../services/records/store/collections.js";
import { runSeed } from "../../scripts/seed/run-seed.js";
import { formatReport, seedFailed, type SeedOutcome } from "../../scripts/seed/report.js";
import { TEACHERS_PER_MODULE } from "../../scripts/seed/oulad-students.js";
import type { EntityLoadResult, RecordsClient } from "../../scripts/seed/load-records.js";
import type { SeedEntity } from "../../scripts/seed/wire-records.js";
import { openTestDatabase, type TestDatabase } from "../support/database.js";
import { recordsErrorInterceptor } from "../../services/records/error-mapping.js";
import { makeOuladSubset } from "./oulad-subset.js";

export const OULAD_DIR = resolve(import.meta.dirname, "../../../shared/data/oulad");

/** Modules AAA (all of the click rows) and GGG: ~3,300 real students; the full set with DX_SEED_TEST_FULL=1. */
const SEED_DIR = process.env.DX_SEED_TEST_FULL ? OULAD_DIR : makeOuladSubset(OULAD_DIR, ["AAA", "GGG"]);

function csv(name: string): Record<string, string>[] {
  return parse(readFileSync(join(SEED_DIR, name)), { columns: true, bom: true });
}

/** What the seed must produce, computed from the files alone. */
function expectedCounts(): Record<SeedEntity, number> {
  const courses = csv("courses.csv");
  const modules = new Set(courses.map((c) => c.code_module));
  const staff = 1 + modules.size * TEACHERS_PER_MODULE;
  const vle = csv("studentVle_head13905.csv");
  return {
    courses: courses.length,
    users: new Set(csv("studentInfo.csv").map((r) => r.id_student)).size + staff,
    enrollments: csv("studentRegistration.csv").length + courses.length * TEACHERS_PER_MODULE,
    sessions: new Set(vle.map((r) => [r.code_module, r.code_presentation, r.id_student, r.date].join("|"))).size,
    activity: vle.length,
  };
}

const byEntity = (results: EntityLoadResult[]) => Object.fromEntries(results.map((r) => [r.entity, r])) as Record<SeedEntity, EntityLoadResult>;

let t: TestDatabase;
let client: RecordsClient;
let expected: Record<SeedEntity, number>;
let first: SeedOutcome;

beforeAll(async () => {
  t = await openTestDatabase("seed");
  await ensureIndexes(t.db);
  const transport = createRouterTransport((router) => router.service(RecordsService, new RecordsServiceImpl(t.db)), { router: { interceptors: [recordsErrorInterceptor] } });
  client = createClient(RecordsService, transport);
  expected = expectedCounts();
  first = await runSeed(client, SEED_DIR);
  console.log(`first load:\n${formatReport(first)}`);
}, 2_400_000);
afterAll(async () => {
  await t?.close();
  if (SEED_DIR !== OULAD_DIR) rmSync(SEED_DIR, { recursive: true, force: true });
});

describe("seeding the OULAD tables through the records service", () => {
  it("maps every row: nothing is rejected", () => {
    for (const tally of Object.values(first.seed.tallies))
      expect({ entity: tally.entity, rejected: tally.rejected, rejections: tally.rejections }).toEqual({ entity: tally.entity, rejected: 0, rejections: [] });
    expect(first.seed.sites.rejected).toBe(0);
    expect(seedFailed(first)).toBe(false);
  });

  it("inserts exactly the expected number of records of each entity, with no failures", async () => {
    const results = byEntity(first.results);
    for (const entity of Object.keys(expected) as SeedEntity[]) {
      expect({ entity, ...pick(results[entity]) }).toEqual({ entity, records: expected[entity], inserted: expected[entity], updated: 0, unchanged: 0, skipped: 0, failed: 0, errors: [] });
      expect(await t.db.collection(entity).countDocuments()).toBe(expected[entity]);
    }
  });

  it("keeps the exact-duplicate click rows as separate activity entries", async () => {
    const rows = csv("studentVle_head13905.csv").map((r) => Object.values(r).join(","));
    const duplicates = rows.length - new Set(rows).size;
    expect(duplicates).toBe(361);
    expect(await t.db.collection("activity").countDocuments()).toBe(rows.length);
  });

  it("loads users of every role and students' enrollments with the statuses OULAD implies", async () => {
    const roles = await t.db.collection("users").distinct("role");
    expect(roles.sort()).toEqual(["admin", "student", "teacher"]);
    const info = csv("studentInfo.csv");
    const registrations = csv("studentRegistration.csv");
    const results = new Map(info.map((r) => [`${r.code_module}-${r.code_presentation}|${r.id_student}`, r.final_result]));
    const withdrawn = registrations.filter((r) => r.date_unregistration !== "" || results.get(`${r.code_module}-${r.code_presentation}|${r.id_student}`) === "Withdrawn").length;
    expect(await t.db.collection("enrollments").countDocuments({ role: "student", status: "withdrawn" })).toBe(withdrawn);
    expect(await t.db.collection("enrollments").countDocuments({ role: "student", status: "completed" })).toBe(registrations.length - withdrawn);
  });

  it("is idempotent: a second run changes nothing and skips the append-only activity log", async () => {
    const second = await runSeed(client, SEED_DIR);
    console.log(`second load:\n${formatReport(second)}`);
    const results = byEntity(second.results);
    for (const entity of ["courses", "users", "enrollments", "sessions"] as const) {
      expect({ entity, ...pick(results[entity]) }).toEqual({ entity, records: expected[entity], inserted: 0, updated: 0, unchanged: expected[entity], skipped: 0, failed: 0, errors: [] });
    }
    expect(results.activity.records).toBe(0);
    expect(results.activity.notLoaded).toContain(`already holds ${expected.activity} entries`);
    expect(await t.db.collection("activity").countDocuments()).toBe(expected.activity);
    expect(seedFailed(second)).toBe(false);
  }, 2_400_000);

  it("maps student 11391's AAA-2013J registration to an enrollment 159 days before 1 October 2013, completed with a Pass", async () => {
    const { record } = await client.getRecord({ entity: Entity.ENROLLMENTS, key: { parts: ["s11391", "AAA-2013J"] } });
    expect(record?.kind.case).toBe("enrollment");
    const enrollment = record!.kind.value as { enrolledAt?: { seconds: bigint }; status?: string; role?: string };
    const expectedAt = new Date(Date.UTC(2013, 9, 1) - 159 * 86_400_000);
    expect(expectedAt.toISOString()).toBe("2013-04-25T00:00:00.000Z");
    expect(Number(enrollment.enrolledAt!.seconds) * 1000).toBe(expectedAt.getTime());
    expect(enrollment).toMatchObject({ status: "completed", role: "student" });
    const user = await t.db.collection("users").findOne({ username: "s11391" });
    expect(user).toMatchObject({ email: "s11391@students.oulad.example", role: "student", status: "active", createdAt: expectedAt });
  });

  it("maps the presentation AAA-2013J to a course from 1 October 2013 lasting 268 days", async () => {
    const course = await t.db.collection("courses").findOne({ code: "AAA-2013J" }, { projection: { _id: 0 } });
    expect(course).toMatchObject({ category: "AAA", visible: true, startDate: new Date("2013-10-01T00:00:00Z"), endDate: new Date("2014-06-26T00:00:00Z") });
    expect(course!.title).toContain("AAA");
  });

  it("maps a click row to a session of that student's day and an activity entry named by the site's type", async () => {
    // First data row of studentVle: AAA,2013J,28400,546652,-10,4 (546652 is a forumng site in vle.csv).
    const session = await t.db.collection("sessions").findOne({ sessionId: "AAA-2013J:s28400:2013-09-21" }, { projection: { _id: 0 } });
    // When the seed stored them: set by the records service, not by the data.
    expect(session?.updatedAt).toBeInstanceOf(Date);
    delete session?.updatedAt;
    expect(session).toEqual({ sessionId: "AAA-2013J:s28400:2013-09-21", userId: "s28400", courseId: "AAA-2013J", startedAt: new Date("2013-09-21T00:00:00Z"), status: "completed" });
    const entry = await t.db.collection("activity").findOne({ "details.source": "studentVle_head13905.csv:2" }, { projection: { _id: 0 } });
    expect(entry?.recordedAt).toBeInstanceOf(Date);
    delete entry?.recordedAt;
    expect(entry).toEqual({
      userId: "s28400",
      sessionId: "AAA-2013J:s28400:2013-09-21",
      courseId: "AAA-2013J",
      action: "forumng",
      at: new Date("2013-09-21T00:00:00Z"),
      details: { site: 546652, clicks: 4, day: -10, source: "studentVle_head13905.csv:2" },
    });
  });
});

function pick(r: EntityLoadResult) {
  return { records: r.records, inserted: r.inserted, updated: r.updated, unchanged: r.unchanged, skipped: r.skipped, failed: r.failed, errors: r.errors };
}
