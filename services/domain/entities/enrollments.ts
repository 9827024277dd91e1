import { enumField, stringField, text, timestampField } from "../field-spec.js";
import type { EntitySpec } from "../entity-spec.js";
import { USERNAME_PATTERN } from "./users.js";
import { COURSE_CODE_PATTERN } from "./courses.js";

export const ENROLLMENT_ROLES = ["student", "teacher"] as const;
export const ENROLLMENT_STATUSES = ["active", "suspended", "completed", "withdrawn"] as const;

export const enrollments: EntitySpec = {
  name: "enrollments",
  label: "Enrollments",
  fields: [
    stringField("userId", "User id", text({ max: 100, pattern: USERNAME_PATTERN }), { required: true, keyPart: true, description: "The user's username." }),
    stringField("courseId", "Course id", text({ max: 100, pattern: COURSE_CODE_PATTERN }), { required: true, keyPart: true, description: "The course's code." }),
    enumField("role", "Role", ENROLLMENT_ROLES),
    enumField("status", "Status", ENROLLMENT_STATUSES),
    timestampField("enrolledAt", "Enrolled at", { description: "Set on insert when not given." }),
    timestampField("updatedAt", "Updated at", { readOnly: true, description: "Set by the server on every change." }),
  ],
  keyFields: ["userId", "courseId"],
  uniqueFields: [],
  timeFields: ["enrolledAt", "updatedAt"],
  indexedFields: ["courseId", "status"],
  references: [
    { field: "userId", entity: "users", targetField: "username" },
    { field: "courseId", entity: "courses", targetField: "code" },
  ],
  appendOnly: false,
  changeField: "updatedAt",
  defaults: () => ({ role: "student", status: "active", enrolledAt: new Date() }),
};
