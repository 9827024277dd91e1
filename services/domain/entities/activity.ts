import { objectField, stringField, text, timestampField } from "../field-spec.js";
import type { EntitySpec } from "../entity-spec.js";
import { freeFormObject } from "../free-form-object.js";
import { USERNAME_PATTERN } from "./users.js";
import { COURSE_CODE_PATTERN } from "./courses.js";

/**
 * The user activity log. Append-only: entries are inserted, never replaced,
 * merged or deleted through the API, so the log can be trusted as history.
 * An entry written with its id (a restore from an export) keeps it, and one
 * already there is not written twice.
 */
export const activity: EntitySpec = {
  name: "activity",
  label: "Activity log",
  fields: [
    stringField(
      "id",
      "Entry id",
      text({ min: 24, max: 24, pattern: /^[0-9a-fA-F]{24}$/, patternHint: "must be 24 hexadecimal characters (an id this service assigned)" }).transform((v) => v.toLowerCase()),
      {
        keyPart: true,
        description:
          "Assigned by the server when absent. Given (as an export of the log carries it), the entry is restored under that id: one already in the log with the same values is unchanged, with other values an error, so repeating a restore changes nothing.",
      },
    ),
    stringField("userId", "User id", text({ max: 100, pattern: USERNAME_PATTERN }), { required: true, description: "The user's username." }),
    stringField("sessionId", "Session id", text({ max: 200 })),
    stringField("courseId", "Course id", text({ max: 100, pattern: COURSE_CODE_PATTERN })),
    stringField("action", "Action", text({ max: 100, pattern: /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/ }), { required: true }),
    timestampField("at", "At", { required: true }),
    objectField("details", "Details", freeFormObject),
    timestampField("recordedAt", "Recorded at", {
      readOnly: true,
      description: "Set by the server when the entry is stored (a restored entry keeps its `at` but is recorded anew): what changed_since filters on.",
    }),
  ],
  keyFields: ["id"],
  uniqueFields: [],
  timeFields: ["at", "recordedAt"],
  indexedFields: ["userId", "sessionId", "courseId", "at"],
  references: [
    { field: "userId", entity: "users", targetField: "username" },
    { field: "sessionId", entity: "sessions", targetField: "sessionId" },
    { field: "courseId", entity: "courses", targetField: "code" },
  ],
  appendOnly: true,
  changeField: "recordedAt",
};
