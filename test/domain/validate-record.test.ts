/**
 * Every schema rule of every entity, with the wrong types a file can carry:
 * each bad value is refused with the field named and a reason a person can act on.
 */
import { describe, expect, it } from "vitest";
import { ENTITIES, validateRecord } from "../../services/domain/index.js";

const validUser = { email: "Ada@Example.org", username: "ada", firstName: "Ada", lastName: "Lovelace", role: "admin", status: "active", password: "long enough" };
const validCourse = { code: "AAA-2013J", title: "Algebra", description: "", category: "math", startDate: new Date("2013-10-01"), endDate: new Date("2014-06-01"), visible: true };
const validSession = {
  sessionId: "s-1",
  userId: "ada",
  courseId: "AAA-2013J",
  startedAt: new Date("2014-01-01T10:00:00Z"),
  endedAt: new Date("2014-01-01T11:00:00Z"),
  status: "completed",
  score: 100,
};
const validEnrollment = { userId: "ada", courseId: "AAA-2013J", role: "teacher", status: "withdrawn", enrolledAt: new Date("2013-09-01") };
const validActivity = {
  userId: "ada",
  sessionId: "s-1",
  courseId: "AAA-2013J",
  action: "quiz/submit",
  at: new Date("2014-01-01T10:30:00Z"),
  details: { page: 3, tags: ["x", { deep: true }], note: null },
};

const valid = { users: validUser, courses: validCourse, sessions: validSession, enrollments: validEnrollment, activity: validActivity } as const;

function issuesOf(entity: keyof typeof valid, patch: Record<string, unknown>) {
  const result = validateRecord(ENTITIES[entity], { ...valid[entity], ...patch }, { completeness: "full" });
  return result.ok ? [] : result.issues;
}

describe("valid records", () => {
  it.each(Object.keys(valid) as (keyof typeof valid)[])("accepts a complete valid %s record", (entity) => {
    expect(issuesOf(entity, {})).toEqual([]);
  });

  it("normalises an email to lower case", () => {
    const result = validateRecord(ENTITIES.users, validUser, { completeness: "full" });
    expect(result.ok && result.value.email).toBe("ada@example.org");
  });

  it("drops read-only fields such as joined columns instead of failing", () => {
    const result = validateRecord(ENTITIES.sessions, { ...validSession, userName: "Ada", courseTitle: "Algebra" }, { completeness: "full" });
    expect(result.ok && result.value).not.toHaveProperty("userName");
  });
});

const cases: [keyof typeof valid, string, unknown, string][] = [
  // users
  ["users", "email", undefined, "is required"],
  ["users", "email", "not-an-email", "must be a valid email address"],
  ["users", "email", 42, "expected a string, got a number"],
  ["users", "email", `${"a".repeat(400)}@x.org`, "must be at most 320 characters"],
  ["users", "username", undefined, "is required"],
  ["users", "username", "has space", "must start with a letter or digit"],
  ["users", "username", "", "must not be empty"],
  ["users", "username", "a".repeat(101), "must be at most 100 characters"],
  ["users", "firstName", "x\u0000y", "must not contain NUL characters"],
  ["users", "lastName", true, "expected a string, got a boolean"],
  ["users", "role", "wizard", "must be one of student, teacher, admin"],
  ["users", "role", 3, "expected one of student, teacher, admin, got a number"],
  ["users", "status", "deleted", "must be one of active, suspended"],
  ["users", "createdAt", "2020-01-01", "expected a timestamp, got a string"],
  ["users", "createdAt", new Date("invalid"), "expected a timestamp"],
  ["users", "createdAt", new Date("0999-12-31T00:00:00Z"), "must be after the year 1000"],
  ["users", "password", "short", "must be at least 8 characters"],
  // courses
  ["courses", "code", undefined, "is required"],
  ["courses", "code", "has/slash", "must start with a letter or digit"],
  ["courses", "title", undefined, "is required"],
  ["courses", "title", "t".repeat(501), "must be at most 500 characters"],
  ["courses", "description", "d".repeat(20_001), "must be at most 20000 characters"],
  ["courses", "visible", "yes", "expected true or false, got a string"],
  ["courses", "endDate", new Date("2013-01-01"), "must not be before startDate"],
  ["courses", "startDate", 1234567890, "expected a timestamp, got a number"],
  // sessions
  ["sessions", "sessionId", undefined, "is required"],
  ["sessions", "userId", undefined, "is required"],
  ["sessions", "courseId", undefined, "is required"],
  ["sessions", "startedAt", undefined, "is required"],
  ["sessions", "status", undefined, "is required"],
  ["sessions", "status", "done", "must be one of active, completed, pending"],
  ["sessions", "score", 101, "must be at most 100"],
  ["sessions", "score", -0.5, "must be at least 0"],
  ["sessions", "score", Number.NaN, "expected a number, got NaN"],
  ["sessions", "score", Number.POSITIVE_INFINITY, "expected a number, got Infinity"],
  ["sessions", "score", "80", "expected a number, got a string"],
  ["sessions", "endedAt", new Date("2013-01-01"), "must not be before startedAt"],
  // enrollments
  ["enrollments", "userId", undefined, "is required"],
  ["enrollments", "courseId", undefined, "is required"],
  ["enrollments", "role", "admin", "must be one of student, teacher"],
  ["enrollments", "status", "gone", "must be one of active, suspended, completed, withdrawn"],
  // activity
  ["activity", "userId", undefined, "is required"],
  ["activity", "action", undefined, "is required"],
  ["activity", "action", "has space", "must match"],
  ["activity", "at", undefined, "is required"],
  ["activity", "details", "text", "expected an object"],
  ["activity", "details", [1, 2], "expected an object"],
];

describe("bad values", () => {
  it.each(cases)("refuses %s.%s = %j: %s", (entity, field, value, reason) => {
    const issues = issuesOf(entity, { [field]: value });
    expect(issues.length).toBeGreaterThan(0);
    const issue = issues.find((i) => i.field === field);
    expect(issue, JSON.stringify(issues)).toBeDefined();
    expect(issue!.reason).toContain(reason);
  });

  it("reports every bad field of a record, not just the first", () => {
    const issues = issuesOf("users", { email: "x", role: "wizard", status: 7 });
    expect(issues.map((i) => i.field).sort()).toEqual(["email", "role", "status"]);
  });

  it("refuses fields the entity does not have when asked to", () => {
    const result = validateRecord(ENTITIES.courses, { ...validCourse, colour: "red" }, { completeness: "full", rejectUnknown: true });
    expect(!result.ok && result.issues).toEqual([{ field: "colour", reason: "is not a field of courses" }]);
  });

  it("checks only the given fields of a partial record", () => {
    expect(validateRecord(ENTITIES.courses, { code: "X1", category: "c" }, { completeness: "partial" }).ok).toBe(true);
    expect(validateRecord(ENTITIES.courses, { code: "X1", visible: "no" }, { completeness: "partial" }).ok).toBe(false);
  });
});

describe("free-form details", () => {
  const detailCases: [string, unknown, string, string][] = [
    ["a key containing a dot", { "a.b": 1 }, "details", 'key "a.b" must not contain "."'],
    ["a key starting with $", { $where: "x" }, "details", 'key "$where" must not start with "$"'],
    ["a nested bad key", { outer: { $set: 1 } }, "details.outer", 'key "$set" must not start with "$"'],
    ["a NUL character in a value", { note: "a\u0000b" }, "details.note", "must not contain NUL characters"],
    ["NaN", { n: Number.NaN }, "details.n", "must be a finite number, got NaN"],
    ["Infinity", { n: Number.NEGATIVE_INFINITY }, "details.n", "must be a finite number, got -Infinity"],
    ["a list inside a list", { grid: [[1, 2]] }, "details.grid.0", "lists inside lists are not supported"],
    ["an empty key", { "": 1 }, "details", "has an empty key"],
    ["a date object", { when: new Date() }, "details.when", "unsupported value type object"],
  ];
  it.each(detailCases)("refuses %s", (_name, details, field, reason) => {
    const issues = issuesOf("activity", { details });
    expect(issues).toContainEqual({ field, reason });
  });

  it("refuses details nested too deeply", () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 10; i++) deep = { d: deep };
    expect(issuesOf("activity", { details: deep })[0]!.reason).toContain("nests deeper than 8 levels");
  });

  it("refuses details larger than 16 KiB", () => {
    expect(issuesOf("activity", { details: { big: "x".repeat(17_000) } })[0]!.reason).toMatch(/bytes; the limit is 16384/);
  });
});
