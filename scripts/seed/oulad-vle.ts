/**
 * OULAD studentVle.csv (+ vle.csv) → sessions and activity.
 *
 * A studentVle row is one student's clicks on one VLE site on one day of a
 * presentation. OULAD has no times of day, so a session is one student's day
 * in one course: (student, course, date) with startedAt at 00:00 UTC of that
 * day, status completed; and every row is one activity entry whose action is
 * the site's activity_type. Exact-duplicate rows (361 in the first 13,905) are
 * real repeated clicks in OULAD and stay separate entries.
 *
 * vle.csv (6,364 sites) is read whole as a lookup table; studentVle.csv is
 * streamed. Sessions are deduplicated with a set of the session ids seen, so
 * memory grows with the number of sessions (2,005 for the head file; several
 * million strings for the full 10.6M-row file).
 */
import { join } from "node:path";
import type { JsonObject } from "@bufbuild/protobuf";
import { addDays, courseCode, type OuladCourse } from "./oulad-courses.js";
import { type MappingTally, field, intField, readCsv, type CsvRow } from "./oulad-csv.js";
import { studentUsername } from "./oulad-students.js";

export const VLE_FILE = "vle.csv";
/** The part of studentVle.csv shipped in the shared data (see SOURCE.txt). */
export const STUDENT_VLE_FILE = "studentVle_head13905.csv";

export interface OuladSite {
  id: number;
  course: string;
  activityType: string;
}

export interface SessionRecord {
  sessionId: string;
  userId: string;
  courseId: string;
  startedAt: Date;
  status: "completed";
}

export interface ActivityRecord {
  userId: string;
  sessionId: string;
  courseId: string;
  action: string;
  at: Date;
  details: JsonObject;
}

const ACTION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;

/** vle.csv → sites by id_site; rows that cannot be used are counted in the tally. */
export async function readSites(dir: string, tally: MappingTally): Promise<Map<number, OuladSite>> {
  const sites = new Map<number, OuladSite>();
  for await (const row of readCsv(join(dir, VLE_FILE))) {
    const id = intField(row, "id_site");
    const activityType = field(row, "activity_type");
    if (id === undefined) {
      tally.reject(VLE_FILE, row.line, `id_site "${row.values.id_site ?? ""}" is not a number`);
    } else if (!activityType || !ACTION_PATTERN.test(activityType)) {
      tally.reject(VLE_FILE, row.line, `activity_type "${row.values.activity_type ?? ""}" cannot be an action`);
    } else {
      sites.set(id, { id, course: courseCode(field(row, "code_module") ?? "", field(row, "code_presentation") ?? ""), activityType });
    }
  }
  return sites;
}

/** One click row, checked against the courses and sites. */
export interface VleRow {
  line: number;
  course: OuladCourse;
  student: number;
  site: OuladSite;
  /** Days from the course start (OULAD's `date`). */
  date: number;
  clicks: number;
  day: Date;
}

function readVleRow(row: CsvRow, courses: Map<string, OuladCourse>, sites: Map<number, OuladSite>): VleRow | string {
  const code = courseCode(field(row, "code_module") ?? "", field(row, "code_presentation") ?? "");
  const course = courses.get(code);
  if (!course) return `course ${code} is not in courses.csv`;
  const student = intField(row, "id_student");
  if (student === undefined || student <= 0) return `id_student "${row.values.id_student ?? ""}" is not a student number`;
  const siteId = intField(row, "id_site");
  const site = siteId === undefined ? undefined : sites.get(siteId);
  if (!site) return `id_site "${row.values.id_site ?? ""}" is not in vle.csv`;
  if (site.course !== code) return `site ${site.id} belongs to ${site.course}, not ${code}`;
  const date = intField(row, "date");
  if (date === undefined) return `date "${row.values.date ?? ""}" is not a number of days`;
  const clicks = intField(row, "sum_click");
  if (clicks === undefined || clicks < 0) return `sum_click "${row.values.sum_click ?? ""}" is not a click count`;
  return { line: row.line, course, student, site, date, clicks, day: addDays(course.startDate, date) };
}

/** The rows of studentVle that map, counting the rest. */
async function* vleRows(dir: string, courses: Map<string, OuladCourse>, sites: Map<number, OuladSite>, tally: MappingTally): AsyncGenerator<VleRow> {
  for await (const row of readCsv(join(dir, STUDENT_VLE_FILE))) {
    tally.rows++;
    const mapped = readVleRow(row, courses, sites);
    if (typeof mapped === "string") tally.reject(STUDENT_VLE_FILE, row.line, mapped);
    else yield mapped;
  }
}

/** A student's day in a course: AAA-2013J:s28400:2013-09-21. */
export function sessionId(course: string, student: number, day: Date): string {
  return `${course}:${studentUsername(student)}:${day.toISOString().slice(0, 10)}`;
}

/** One session per (student, course, day) of studentVle. */
export async function* sessionRecords(dir: string, courses: Map<string, OuladCourse>, sites: Map<number, OuladSite>, tally: MappingTally): AsyncGenerator<SessionRecord> {
  const seen = new Set<string>();
  for await (const row of vleRows(dir, courses, sites, tally)) {
    const id = sessionId(row.course.code, row.student, row.day);
    if (seen.has(id)) continue;
    seen.add(id);
    tally.records++;
    yield { sessionId: id, userId: studentUsername(row.student), courseId: row.course.code, startedAt: row.day, status: "completed" };
  }
}

/** One activity entry per studentVle row, duplicates included. */
export async function* activityRecords(dir: string, courses: Map<string, OuladCourse>, sites: Map<number, OuladSite>, tally: MappingTally): AsyncGenerator<ActivityRecord> {
  for await (const row of vleRows(dir, courses, sites, tally)) {
    tally.records++;
    yield {
      userId: studentUsername(row.student),
      sessionId: sessionId(row.course.code, row.student, row.day),
      courseId: row.course.code,
      action: row.site.activityType,
      at: row.day,
      details: { site: row.site.id, clicks: row.clicks, day: row.date, source: `${STUDENT_VLE_FILE}:${row.line}` },
    };
  }
}
