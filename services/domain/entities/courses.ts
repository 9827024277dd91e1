import { booleanField, stringField, text, timestampField } from "../field-spec.js";
import type { EntitySpec } from "../entity-spec.js";

export const COURSE_CODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

export const courses: EntitySpec = {
  name: "courses",
  label: "Courses",
  fields: [
    stringField("code", "Course code", text({ max: 100, pattern: COURSE_CODE_PATTERN, patternHint: "must start with a letter or digit and contain only letters, digits and . _ : -" }), {
      required: true,
      keyPart: true,
      description: "Natural key; what sessions, enrollments and activity call courseId.",
    }),
    stringField("title", "Title", text({ max: 500 }), { required: true }),
    stringField("description", "Description", text({ min: 0, max: 20_000 })),
    stringField("category", "Category", text({ max: 200 })),
    timestampField("startDate", "Start date"),
    timestampField("endDate", "End date"),
    booleanField("visible", "Visible"),
    timestampField("updatedAt", "Updated at", { readOnly: true, description: "Set by the server on every change." }),
  ],
  keyFields: ["code"],
  uniqueFields: [],
  timeFields: ["startDate", "endDate", "updatedAt"],
  indexedFields: ["category"],
  references: [],
  appendOnly: false,
  changeField: "updatedAt",
  defaults: () => ({ visible: true }),
  crossFieldRules: (r) => (r.startDate instanceof Date && r.endDate instanceof Date && r.endDate < r.startDate ? [{ field: "endDate", reason: "must not be before startDate" }] : []),
};
