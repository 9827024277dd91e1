import { objectField, stringField, text, timestampField } from "../field-spec.js";
import type { EntitySpec } from "../entity-spec.js";
import { freeFormObject } from "../free-form-object.js";
import { USERNAME_PATTERN } from "./users.js";
import { COURSE_CODE_PATTERN } from "./courses.js";

/**
 * The user activity log. Append-only: entries are inserted, never replaced,
 * merged or deleted through the API, so the log can be trusted as history.
 */
export const activity: EntitySpec = {
  name: "activity",
  label: "Activity log",
  fields: [
    stringField("id", "Entry id", text({ max: 24 }), { keyPart: true, readOnly: true, description: "Assigned by the server." }),
    stringField("userId", "User id", text({ max: 100, pattern: USERNAME_PATTERN }), { required: true, description: "The user's username." }),
    stringField("sessionId", "Session id", text({ max: 200 })),
    stringField("courseId", "Course id", text({ max: 100, pattern: COURSE_CODE_PATTERN })),
    stringField("action", "Action", text({ max: 100, pattern: /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/ }), { required: true }),
    timestampField("at", "At", { required: true }),
    objectField("details", "Details", freeFormObject),
  ],
  keyFields: ["id"],
  uniqueFields: [],
  timeFields: ["at"],
  indexedFields: ["userId", "sessionId", "courseId", "at"],
  references: [
    { field: "userId", entity: "users", targetField: "username" },
    { field: "sessionId", entity: "sessions", targetField: "sessionId" },
    { field: "courseId", entity: "courses", targetField: "code" },
  ],
  appendOnly: true,
};
