import { enumField, listField, numberField, stringField, text, timestampField } from "../field-spec.js";
import type { EntitySpec } from "../entity-spec.js";
import { USERNAME_PATTERN } from "./users.js";
import { COURSE_CODE_PATTERN } from "./courses.js";

export const SESSION_STATUSES = ["active", "completed", "pending"] as const;

export const sessions: EntitySpec = {
  name: "sessions",
  label: "Sessions",
  fields: [
    stringField("sessionId", "Session id", text({ max: 200, pattern: /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/ }), { required: true, keyPart: true }),
    stringField("userId", "User id", text({ max: 100, pattern: USERNAME_PATTERN }), { required: true, description: "The user's username." }),
    stringField("courseId", "Course id", text({ max: 100, pattern: COURSE_CODE_PATTERN }), { required: true, description: "The course's code." }),
    timestampField("startedAt", "Started at", { required: true }),
    timestampField("endedAt", "Ended at"),
    enumField("status", "Status", SESSION_STATUSES, { required: true }),
    numberField("score", "Score", { min: 0, max: 100 }),
    timestampField("updatedAt", "Updated at", { readOnly: true, description: "Set by the server on every change." }),
    stringField("userName", "User name", text({ max: 401 }), { readOnly: true, personal: true, joined: true, description: "Joined from the user." }),
    stringField("userEmail", "User email", text({ max: 320 }), { readOnly: true, personal: true, joined: true, description: "Joined from the user." }),
    stringField("courseTitle", "Course title", text({ max: 500 }), { readOnly: true, joined: true, description: "Joined from the course." }),
    listField("activityIds", "Activity ids", "string_list", { joined: true, description: "Joined from the activity log." }),
    listField("activities", "Activities", "object_list", { joined: true, description: "Joined from the activity log." }),
  ],
  keyFields: ["sessionId"],
  uniqueFields: [],
  timeFields: ["startedAt", "endedAt", "updatedAt"],
  indexedFields: ["userId", "courseId", "status", "startedAt"],
  references: [
    { field: "userId", entity: "users", targetField: "username" },
    { field: "courseId", entity: "courses", targetField: "code" },
  ],
  appendOnly: false,
  changeField: "updatedAt",
  crossFieldRules: (r) => (r.startedAt instanceof Date && r.endedAt instanceof Date && r.endedAt < r.startedAt ? [{ field: "endedAt", reason: "must not be before startedAt" }] : []),
};
