/**
 * The OULAD demo set as record sources, one per entity, each with the tally of
 * what its reader mapped and rejected.
 *
 * Opening reads the small lookup tables (courses.csv, vle.csv) and makes two
 * streaming passes that the record readers need (final results by
 * registration, first registration by student); the big tables are only read
 * when a source is iterated, and each source reads its file afresh.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { COURSES_FILE, courseRecords, readCourses, type OuladCourse } from "./oulad-courses.js";
import { MappingTally } from "./oulad-csv.js";
import { enrollmentRecords, readFinalResults, readFirstRegistrations, REGISTRATION_FILE, STUDENT_INFO_FILE, userRecords } from "./oulad-students.js";
import { activityRecords, readSites, sessionRecords, STUDENT_VLE_FILE, VLE_FILE } from "./oulad-vle.js";
import type { PlainRecord, SeedEntity } from "./wire-records.js";

export const OULAD_FILES = [COURSES_FILE, STUDENT_INFO_FILE, REGISTRATION_FILE, VLE_FILE, STUDENT_VLE_FILE] as const;

export interface OuladSeed {
  dir: string;
  courses: Map<string, OuladCourse>;
  /** Each entity's records, read lazily from the files. */
  sources: Record<SeedEntity, AsyncIterable<PlainRecord>>;
  /** What each entity's reader did with its rows. */
  tallies: Record<SeedEntity, MappingTally>;
  /** Rows of the lookup table vle.csv that could not be used. */
  sites: MappingTally;
}

export async function openOuladSeed(dir: string): Promise<OuladSeed> {
  const missing = OULAD_FILES.filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) throw new Error(`the OULAD directory ${dir} lacks ${missing.join(", ")}`);
  const tallies: Record<SeedEntity, MappingTally> = {
    courses: new MappingTally("courses"),
    users: new MappingTally("users"),
    enrollments: new MappingTally("enrollments"),
    sessions: new MappingTally("sessions"),
    activity: new MappingTally("activity"),
  };
  const sites = new MappingTally("vle sites");
  const courses = await readCourses(dir, tallies.courses);
  const [siteMap, finalResults, firstRegistrations] = await Promise.all([readSites(dir, sites), readFinalResults(dir, courses), readFirstRegistrations(dir, courses)]);
  sites.rows = siteMap.size + sites.rejected;
  sites.records = siteMap.size;
  return {
    dir,
    courses,
    tallies,
    sites,
    sources: {
      courses: courseRecords(courses, tallies.courses) as AsyncIterable<PlainRecord>,
      users: userRecords(dir, courses, firstRegistrations, tallies.users) as AsyncIterable<PlainRecord>,
      enrollments: enrollmentRecords(dir, courses, finalResults, tallies.enrollments) as AsyncIterable<PlainRecord>,
      sessions: sessionRecords(dir, courses, siteMap, tallies.sessions) as AsyncIterable<PlainRecord>,
      activity: activityRecords(dir, courses, siteMap, tallies.activity) as AsyncIterable<PlainRecord>,
    },
  };
}
