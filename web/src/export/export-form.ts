/**
 * The export page's choices as plain data, and the ExportRequest they make:
 * one place that turns what a person picked into what the transfer service
 * is asked, for the preview and the download alike.
 */
import { create, type JsonValue } from "@bufbuild/protobuf";
import { Entity, FilterSchema, SortFieldSchema, TimeRangeSchema } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { ExportRequestSchema, type ExportRequest } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { dateRangeProblem, endOfDay, startOfDay } from "../ui/date-range.js";

export interface ExportForm {
  entity: Entity;
  format: string;
  /** The picked fields in the file's column order (the field picker's order list). */
  fields: string[];
  status: string;
  userId: string;
  courseId: string;
  /** A time field of the entity, and a date range on it (yyyy-mm-dd, either may be empty). */
  timeField: string;
  from: string;
  to: string;
  sort: string;
  descending: boolean;
  /** Empty for no limit. */
  limit: string;
  /** The download format's options as the person set them (FormatOptionsForm); unset ones take the format's defaults. */
  formatOptions: Record<string, JsonValue>;
}

export const ENTITIES: readonly { entity: Entity; label: string }[] = [
  { entity: Entity.USERS, label: "Users" },
  { entity: Entity.COURSES, label: "Courses" },
  { entity: Entity.SESSIONS, label: "Sessions" },
  { entity: Entity.ENROLLMENTS, label: "Enrollments" },
  { entity: Entity.ACTIVITY, label: "Activity" },
];

export function initialForm(): ExportForm {
  return { entity: Entity.USERS, format: "csv", fields: [], status: "", userId: "", courseId: "", timeField: "", from: "", to: "", sort: "", descending: false, limit: "", formatOptions: {} };
}

/** Problems with the form, by control name; an empty object when it can be sent. */
export function formProblems(form: ExportForm): Record<string, string> {
  const problems: Record<string, string> = {};
  if (form.fields.length === 0) problems.fields = "Pick at least one field.";
  if (form.limit !== "" && !/^[1-9]\d*$/.test(form.limit)) problems.limit = "A limit is a whole number above 0, or empty for all records.";
  if ((form.from || form.to) && !form.timeField) problems.timeField = "Pick which date the range applies to.";
  const range = dateRangeProblem(form.from, form.to);
  if (range) problems.to = range;
  return problems;
}

/** The request for `form`; `overrides` for the preview (its own format and limit, so not the download format's options). */
export function exportRequestOf(form: ExportForm, overrides: { format?: string; limit?: number; estimateTotal?: boolean } = {}): ExportRequest {
  const filter = create(FilterSchema, {
    statuses: form.status ? [form.status] : [],
    userIds: form.userId.trim() ? [form.userId.trim()] : [],
    courseIds: form.courseId.trim() ? [form.courseId.trim()] : [],
    timeRanges:
      form.timeField && (form.from || form.to)
        ? [
            create(TimeRangeSchema, {
              field: form.timeField,
              from: startOfDay(form.from),
              // The end date is included: up to the start of the next day.
              to: endOfDay(form.to),
            }),
          ]
        : [],
  });
  const formLimit = form.limit ? Number(form.limit) : 0;
  const limit = overrides.limit !== undefined ? (formLimit > 0 ? Math.min(formLimit, overrides.limit) : overrides.limit) : formLimit;
  return create(ExportRequestSchema, {
    entity: form.entity,
    format: overrides.format ?? form.format,
    formatOptions: overrides.format === undefined && Object.keys(form.formatOptions).length > 0 ? form.formatOptions : undefined,
    fields: form.fields,
    filter,
    sort: form.sort ? [create(SortFieldSchema, { field: form.sort, descending: form.descending })] : [],
    limit: BigInt(limit),
    estimateTotal: overrides.estimateTotal ?? false,
  });
}
