/**
 * OULAD studentInfo.csv → users, studentRegistration.csv → enrollments, and a
 * few staff users so that the set has every role.
 *
 * OULAD is anonymised: a student is only a number (id_student), with no name
 * and no email. The seed makes up a username `s<id>` and an address
 * `s<id>@students.oulad.example` (a reserved domain that delivers nowhere) and
 * leaves the names empty. A student is one user however many presentations
 * they took (28,785 students, 32,593 registrations).
 *
 * Enrollment status needs the final_result of studentInfo.csv; the two files
 * are joined through a map of (course, student) → final_result built in one
 * streaming pass, a few MB for the whole of OULAD. A user's creation time is
 * their earliest registration, from another streaming pass.
 */
import { join } from "node:path";
import { addDays, courseCode, type OuladCourse } from "./oulad-courses.js";
import { type MappingTally, field, intField, readCsv, type CsvRow } from "./oulad-csv.js";

export const STUDENT_INFO_FILE = "studentInfo.csv";
export const REGISTRATION_FILE = "studentRegistration.csv";
export const STUDENT_EMAIL_DOMAIN = "students.oulad.example";
export const STAFF_EMAIL_DOMAIN = "staff.oulad.example";
/** Made-up tutors per module, enrolled as teachers in each of its presentations. */
export const TEACHERS_PER_MODULE = 2;

export interface UserRecord {
  email: string;
  username: string;
  firstName?: string;
  lastName?: string;
  role: "student" | "teacher" | "admin";
  status: "active" | "suspended";
  createdAt?: Date;
}

export interface EnrollmentRecord {
  userId: string;
  courseId: string;
  role: "student" | "teacher";
  status: "active" | "suspended" | "completed" | "withdrawn";
  enrolledAt: Date;
}

export const studentUsername = (id: number) => `s${id}`;
export const studentEmail = (id: number) => `s${id}@${STUDENT_EMAIL_DOMAIN}`;

const FINISHED = new Set(["Pass", "Distinction", "Fail"]);

/**
 * What one studentRegistration row says about an enrollment. Withdrawn wins
 * (an unregistration date, or a final_result of Withdrawn without one: 93
 * OULAD rows); a final result of Pass, Distinction or Fail means completed;
 * anything else is still active.
 */
export function enrollmentStatus(unregistered: boolean, finalResult: string | undefined): EnrollmentRecord["status"] {
  if (unregistered || finalResult === "Withdrawn") return "withdrawn";
  if (finalResult !== undefined && FINISHED.has(finalResult)) return "completed";
  return "active";
}

interface StudentKey {
  course: OuladCourse;
  student: number;
}

/** The course and student of a row, or the reason it has none. */
function studentKey(row: CsvRow, courses: Map<string, OuladCourse>): StudentKey | string {
  const student = intField(row, "id_student");
  if (student === undefined || student <= 0) return `id_student "${row.values.id_student ?? ""}" is not a student number`;
  const code = courseCode(field(row, "code_module") ?? "", field(row, "code_presentation") ?? "");
  const course = courses.get(code);
  if (!course) return `course ${code} is not in courses.csv`;
  return { course, student };
}

/** (course code, student) → final_result, from one pass over studentInfo.csv. */
export async function readFinalResults(dir: string, courses: Map<string, OuladCourse>): Promise<Map<string, string>> {
  const results = new Map<string, string>();
  for await (const row of readCsv(join(dir, STUDENT_INFO_FILE))) {
    const key = studentKey(row, courses);
    const result = field(row, "final_result");
    if (typeof key !== "string" && result) results.set(`${key.course.code}|${key.student}`, result);
  }
  return results;
}

/** The date a registration row says the student enrolled, or undefined when date_registration is missing. */
function registeredAt(row: CsvRow, course: OuladCourse): Date | undefined {
  const days = intField(row, "date_registration");
  return days === undefined ? undefined : addDays(course.startDate, days);
}

/** Student → their earliest registration date, from one pass over studentRegistration.csv. */
export async function readFirstRegistrations(dir: string, courses: Map<string, OuladCourse>): Promise<Map<number, Date>> {
  const first = new Map<number, Date>();
  for await (const row of readCsv(join(dir, REGISTRATION_FILE))) {
    const key = studentKey(row, courses);
    if (typeof key === "string") continue; // reported by the enrollments reader
    const at = registeredAt(row, key.course) ?? key.course.startDate;
    const seen = first.get(key.student);
    if (!seen || at < seen) first.set(key.student, at);
  }
  return first;
}

/** One user per distinct student of studentInfo.csv, then the staff. */
export async function* userRecords(dir: string, courses: Map<string, OuladCourse>, firstRegistrations: Map<number, Date>, tally: MappingTally): AsyncGenerator<UserRecord> {
  const seen = new Set<number>();
  for await (const row of readCsv(join(dir, STUDENT_INFO_FILE))) {
    tally.rows++;
    const key = studentKey(row, courses);
    if (typeof key === "string") {
      tally.reject(STUDENT_INFO_FILE, row.line, key);
      continue;
    }
    if (seen.has(key.student)) {
      tally.assume("studentInfo rows of a student already seen (one user per student)");
      continue;
    }
    seen.add(key.student);
    tally.records++;
    yield {
      email: studentEmail(key.student),
      username: studentUsername(key.student),
      role: "student",
      status: "active",
      createdAt: firstRegistrations.get(key.student) ?? key.course.startDate,
    };
  }
  for (const user of staffUsers(courses)) {
    tally.records++;
    tally.assume("made-up staff users (tutors and one admin)");
    yield user;
  }
}

/** The made-up tutors of each module and one administrator. */
export function staffUsers(courses: Map<string, OuladCourse>): UserRecord[] {
  const starts = [...courses.values()].map((c) => c.startDate.getTime());
  if (starts.length === 0) return [];
  const users: UserRecord[] = [
    {
      email: `admin@${STAFF_EMAIL_DOMAIN}`,
      username: "oulad.admin",
      firstName: "Seed",
      lastName: "Administrator",
      role: "admin",
      status: "active",
      createdAt: addDays(new Date(Math.min(...starts)), -365),
    },
  ];
  for (const module of modules(courses)) {
    const firstStart = Math.min(...[...courses.values()].filter((c) => c.module === module).map((c) => c.startDate.getTime()));
    for (let n = 1; n <= TEACHERS_PER_MODULE; n++) {
      const username = tutorUsername(module, n);
      users.push({
        email: `${username}@${STAFF_EMAIL_DOMAIN}`,
        username,
        firstName: "Tutor",
        lastName: `${module} ${n}`,
        role: "teacher",
        status: "active",
        createdAt: addDays(new Date(firstStart), -180),
      });
    }
  }
  return users;
}

export const tutorUsername = (module: string, n: number) => `tutor.${module.toLowerCase()}.${n}`;

function modules(courses: Map<string, OuladCourse>): string[] {
  return [...new Set([...courses.values()].map((c) => c.module))].sort();
}

/** One enrollment per studentRegistration row, then the tutors' enrollments. */
export async function* enrollmentRecords(dir: string, courses: Map<string, OuladCourse>, finalResults: Map<string, string>, tally: MappingTally): AsyncGenerator<EnrollmentRecord> {
  for await (const row of readCsv(join(dir, REGISTRATION_FILE))) {
    tally.rows++;
    const key = studentKey(row, courses);
    if (typeof key === "string") {
      tally.reject(REGISTRATION_FILE, row.line, key);
      continue;
    }
    const unregistration = field(row, "date_unregistration");
    if (unregistration !== undefined && intField(row, "date_unregistration") === undefined) {
      tally.reject(REGISTRATION_FILE, row.line, `date_unregistration "${unregistration}" is not a number of days`);
      continue;
    }
    if (field(row, "date_registration") !== undefined && intField(row, "date_registration") === undefined) {
      tally.reject(REGISTRATION_FILE, row.line, `date_registration "${row.values.date_registration}" is not a number of days`);
      continue;
    }
    let enrolledAt = registeredAt(row, key.course);
    if (!enrolledAt) {
      tally.assume("enrolledAt = course start (date_registration missing)");
      enrolledAt = key.course.startDate;
    }
    const finalResult = finalResults.get(`${key.course.code}|${key.student}`);
    if (finalResult === undefined) tally.assume("no final_result in studentInfo (status from dates only)");
    else if (finalResult === "Withdrawn" && unregistration === undefined) tally.assume("withdrawn by final_result, no date_unregistration");
    tally.records++;
    yield { userId: studentUsername(key.student), courseId: key.course.code, role: "student", status: enrollmentStatus(unregistration !== undefined, finalResult), enrolledAt };
  }
  for (const course of courses.values()) {
    for (let n = 1; n <= TEACHERS_PER_MODULE; n++) {
      tally.records++;
      tally.assume("made-up tutor enrollments");
      yield { userId: tutorUsername(course.module, n), courseId: course.code, role: "teacher", status: "active", enrolledAt: addDays(course.startDate, -120) };
    }
  }
}
