/**
 * The OULAD readers on their own: the mapping of known rows, and rows that
 * cannot be mapped being counted and reported, never dropped silently.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openOuladSeed } from "../../scripts/seed/oulad-seed.js";
import { enrollmentStatus } from "../../scripts/seed/oulad-students.js";
import { presentationStart } from "../../scripts/seed/oulad-courses.js";
import { formatReport, seedFailed } from "../../scripts/seed/report.js";
import type { PlainRecord } from "../../scripts/seed/wire-records.js";

const OULAD_DIR = resolve(import.meta.dirname, "../../../shared/data/oulad");

async function collect(source: AsyncIterable<PlainRecord>): Promise<PlainRecord[]> {
  const out: PlainRecord[] = [];
  for await (const r of source) out.push(r);
  return out;
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A data directory with the real lookup tables and the given small tables. */
function dataDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "oulad-"));
  dirs.push(dir);
  copyFileSync(join(OULAD_DIR, "courses.csv"), join(dir, "courses.csv"));
  copyFileSync(join(OULAD_DIR, "vle.csv"), join(dir, "vle.csv"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe("mapping OULAD rows to records", () => {
  it("starts B presentations on 1 February and J presentations on 1 October", () => {
    expect(presentationStart("2014B")?.toISOString()).toBe("2014-02-01T00:00:00.000Z");
    expect(presentationStart("2013J")?.toISOString()).toBe("2013-10-01T00:00:00.000Z");
    expect(presentationStart("2013X")).toBeUndefined();
  });

  it("derives an enrollment's status from the unregistration date first, then the final result", () => {
    expect(enrollmentStatus(true, "Fail")).toBe("withdrawn");
    expect(enrollmentStatus(false, "Withdrawn")).toBe("withdrawn");
    expect(enrollmentStatus(false, "Pass")).toBe("completed");
    expect(enrollmentStatus(false, "Distinction")).toBe("completed");
    expect(enrollmentStatus(false, "Fail")).toBe("completed");
    expect(enrollmentStatus(false, undefined)).toBe("active");
  });

  it("maps student 11391's AAA-2013J registration (-159 days, Pass) to a completed enrollment on 2013-04-25", async () => {
    const seed = await openOuladSeed(OULAD_DIR);
    const enrollments = await collect(seed.sources.enrollments);
    expect(enrollments.find((e) => e.userId === "s11391" && e.courseId === "AAA-2013J")).toEqual({
      userId: "s11391",
      courseId: "AAA-2013J",
      role: "student",
      status: "completed",
      enrolledAt: new Date("2013-04-25T00:00:00Z"),
    });
    const users = await collect(seed.sources.users);
    expect(users.find((u) => u.username === "s11391")).toEqual({
      email: "s11391@students.oulad.example",
      username: "s11391",
      role: "student",
      status: "active",
      createdAt: new Date("2013-04-25T00:00:00Z"),
    });
    expect(seed.tallies.enrollments.rejected + seed.tallies.users.rejected).toBe(0);
  });

  it("counts and reports rows it cannot map, with file, line and reason, and still maps the rest", async () => {
    const dir = dataDir({
      "studentInfo.csv": [
        `"code_module","code_presentation","id_student","gender","region","highest_education","imd_band","age_band","num_of_prev_attempts","studied_credits","disability","final_result"`,
        `"AAA","2013J","11391","M","East Anglian Region","HE Qualification","90-100%","55<=","0","240","N","Pass"`,
        `"ZZZ","2013J","11392","M","East Anglian Region","HE Qualification","90-100%","55<=","0","240","N","Pass"`,
        `"AAA","2013J","abc","M","East Anglian Region","HE Qualification","90-100%","55<=","0","240","N","Pass"`,
      ].join("\r\n"),
      "studentRegistration.csv": [
        `"code_module","code_presentation","id_student","date_registration","date_unregistration"`,
        `"AAA","2013J","11391","",""`,
        `"AAA","2013K","11391","-10",""`,
        `"AAA","2013J","11391","-10","soon"`,
      ].join("\r\n"),
      "studentVle_head13905.csv": [
        "code_module,code_presentation,id_student,id_site,date,sum_click",
        "AAA,2013J,11391,546652,-10,4",
        "AAA,2013J,11391,999999,-10,4",
        "AAA,2013J,11391,543306,-10,4",
        "AAA,2013J,11391,546652,x,4",
      ].join("\n"),
    });
    const seed = await openOuladSeed(dir);
    expect(await collect(seed.sources.users)).toHaveLength(1 + 15);
    const enrollments = await collect(seed.sources.enrollments);
    expect(enrollments[0]).toMatchObject({ userId: "s11391", status: "completed", enrolledAt: new Date("2013-10-01T00:00:00Z") });
    expect(await collect(seed.sources.activity)).toHaveLength(1);

    expect(seed.tallies.users.rejections).toEqual([
      { file: "studentInfo.csv", line: 3, reason: "course ZZZ-2013J is not in courses.csv" },
      { file: "studentInfo.csv", line: 4, reason: 'id_student "abc" is not a student number' },
    ]);
    expect(seed.tallies.enrollments.rejections).toEqual([
      { file: "studentRegistration.csv", line: 3, reason: "course AAA-2013K is not in courses.csv" },
      { file: "studentRegistration.csv", line: 4, reason: 'date_unregistration "soon" is not a number of days' },
    ]);
    expect(seed.tallies.enrollments.assumptions.get("enrolledAt = course start (date_registration missing)")).toBe(1);
    expect(seed.tallies.activity.rejected).toBe(3);
    expect(seed.tallies.activity.rejections.map((r) => r.reason)).toEqual([
      'id_site "999999" is not in vle.csv',
      expect.stringMatching(/^site 543306 belongs to [A-Z]{3}-\d{4}[BJ], not AAA-2013J$/),
      'date "x" is not a number of days',
    ]);

    const outcome = { seed, results: [], ms: 0 };
    expect(seedFailed(outcome)).toBe(true);
    expect(formatReport(outcome)).toContain("studentInfo.csv:3: course ZZZ-2013J is not in courses.csv");
  });
});
