/**
 * OULAD courses.csv → courses. One course per module presentation, coded
 * `${code_module}-${code_presentation}` (AAA-2013J).
 *
 * OULAD gives no calendar dates, only days relative to each presentation's
 * start, so every other date of the seed hangs off the start date chosen here:
 * a "B" presentation starts on 1 February and a "J" presentation on
 * 1 October of its year (the OU's February and October starts; the day of the
 * month is our assumption), at 00:00 UTC.
 *
 * courses.csv (22 rows) is read whole: the other readers look courses up by
 * module and presentation.
 */
import { join } from "node:path";
import { MappingTally, field, intField, readCsv } from "./oulad-csv.js";

export const COURSES_FILE = "courses.csv";

/** The subject area of each (anonymised) module, from Kuzilek et al. (2017), table 1. */
export const MODULE_DOMAINS: Readonly<Record<string, string>> = {
  AAA: "Social Sciences",
  BBB: "Social Sciences",
  CCC: "STEM",
  DDD: "STEM",
  EEE: "STEM",
  FFF: "STEM",
  GGG: "Social Sciences",
};

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** A module presentation, as the other readers need it. */
export interface OuladCourse {
  code: string;
  module: string;
  presentation: string;
  /** Length in days (module_presentation_length). */
  length: number;
  startDate: Date;
  endDate: Date;
}

/** The course record the records service stores. */
export interface CourseRecord {
  code: string;
  title: string;
  description: string;
  category: string;
  startDate: Date;
  endDate: Date;
  visible: boolean;
}

export function courseCode(module: string, presentation: string): string {
  return `${module}-${presentation}`;
}

/** The start of a presentation such as 2013J (1 Oct 2013) or 2014B (1 Feb 2014), or undefined. */
export function presentationStart(presentation: string): Date | undefined {
  const match = /^(\d{4})([BJ])$/.exec(presentation);
  if (!match) return undefined;
  return new Date(Date.UTC(Number(match[1]), match[2] === "B" ? 1 : 9, 1));
}

/** `days` days after `date` (negative goes back). */
export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * 86_400_000);
}

/** Reads courses.csv into a map by course code, counting rows it cannot map. */
export async function readCourses(dir: string, tally = new MappingTally("courses")): Promise<Map<string, OuladCourse>> {
  const courses = new Map<string, OuladCourse>();
  for await (const row of readCsv(join(dir, COURSES_FILE))) {
    tally.rows++;
    const module = field(row, "code_module");
    const presentation = field(row, "code_presentation");
    const length = intField(row, "module_presentation_length");
    const startDate = presentation ? presentationStart(presentation) : undefined;
    if (!module || !/^[A-Z]+$/.test(module)) {
      tally.reject(COURSES_FILE, row.line, `code_module "${row.values.code_module ?? ""}" is not a module code`);
      continue;
    }
    if (!presentation || !startDate) {
      tally.reject(COURSES_FILE, row.line, `code_presentation "${row.values.code_presentation ?? ""}" is not a year followed by B or J`);
      continue;
    }
    if (length === undefined || length <= 0) {
      tally.reject(COURSES_FILE, row.line, `module_presentation_length "${row.values.module_presentation_length ?? ""}" is not a positive number of days`);
      continue;
    }
    const code = courseCode(module, presentation);
    if (courses.has(code)) {
      tally.reject(COURSES_FILE, row.line, `course ${code} appears twice`);
      continue;
    }
    courses.set(code, { code, module, presentation, length, startDate, endDate: addDays(startDate, length) });
  }
  return courses;
}

/** The course record of one presentation. */
export function courseRecord(course: OuladCourse): CourseRecord {
  const domain = MODULE_DOMAINS[course.module];
  const month = `${MONTHS[course.startDate.getUTCMonth()]} ${course.startDate.getUTCFullYear()}`;
  return {
    code: course.code,
    title: `Module ${course.module}${domain ? ` (${domain})` : ""}, ${month} presentation`,
    description:
      `OULAD module ${course.module}, presentation ${course.presentation}: ${course.length} days from ${course.startDate.toISOString().slice(0, 10)}. ` +
      "Module codes are anonymised in OULAD; the start day is assumed (1 February for B, 1 October for J presentations).",
    category: course.module,
    startDate: course.startDate,
    endDate: course.endDate,
    visible: true,
  };
}

/** The course records, in file order. */
export async function* courseRecords(courses: Map<string, OuladCourse>, tally: MappingTally): AsyncGenerator<CourseRecord> {
  for (const course of courses.values()) {
    tally.records++;
    yield courseRecord(course);
  }
}
