/**
 * Plain records of every entity in the shapes the services meet — full,
 * sparse, empty text, old and odd dates, lists, text in several scripts —
 * and some only the reflective codec handles: what the wire's shortcuts
 * (record-bytes.ts, the records service's stored-document-bytes.ts) are
 * compared against.
 */
import type { EntityName } from "../../services/domain/index.js";

const at = (iso: string) => new Date(iso);

export const RECORDS: [EntityName, Record<string, unknown>][] = [
  [
    "users",
    {
      email: "ada@example.org",
      username: "ada",
      firstName: "Ada",
      lastName: "Lovelace — ∑ 😀",
      role: "student",
      status: "active",
      createdAt: at("2024-01-01T00:00:00Z"),
      updatedAt: at("2024-02-01T12:34:56.789Z"),
      password: "correct horse battery",
    },
  ],
  ["users", { email: "", username: "" }],
  [
    "courses",
    {
      code: "C1",
      title: "Intro",
      description: "",
      category: "x",
      startDate: at("1969-07-20T20:17:40.001Z"),
      endDate: at("1970-01-01T00:00:00Z"),
      visible: false,
      updatedAt: at("2100-01-01T00:00:00.999Z"),
    },
  ],
  ["courses", { code: "C2", visible: true }],
  [
    "sessions",
    {
      sessionId: "s1",
      userId: "u1",
      courseId: "C1",
      startedAt: at("2024-03-01T10:00:00.5Z"),
      endedAt: at("1900-01-01T00:00:00.001Z"),
      status: "completed",
      score: -0.5,
      updatedAt: at("2024-03-02T00:00:00Z"),
    },
  ],
  ["sessions", { sessionId: "s2", score: 0, userName: "Ada", userEmail: "ada@example.org", courseTitle: "Intro", activityIds: ["a1", "a2"] }],
  ["sessions", { sessionId: "s3", activityIds: [] }],
  ["enrollments", { userId: "u1", courseId: "C1", role: "student", status: "active", enrolledAt: at("2024-01-01T00:00:00Z"), updatedAt: at("2024-01-02T00:00:00Z") }],
  ["activity", { id: "0123456789abcdef01234567", userId: "u1", sessionId: "s1", courseId: "C1", action: "view", at: at("2024-01-01T00:00:00Z"), recordedAt: at("2024-01-01T00:00:01Z") }],
  // Handled by the reflective codec: a free-form object, joined entries, stored values of unexpected types.
  ["activity", { id: "x", userId: "u1", details: { device: "phone", clicks: 3, nested: { a: [1, "b"] } } }],
  ["sessions", { sessionId: "s4", activities: [{ userId: "u1", action: "view", at: at("2024-01-01T00:00:00Z") }] }],
  ["sessions", { sessionId: "s5", score: Number.NaN, startedAt: "2024-01-01", status: 7 }],
  ["users", { email: "ada@example.org", createdAt: new Date("not a date") }],
];
