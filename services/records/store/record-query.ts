/**
 * Turns a request's filter, field selection and sort into a MongoDB query.
 * Only fields the entity declares are accepted, so a caller can never reach a
 * hidden field (the password hash) or inject an operator.
 */
import type { Document, Sort } from "mongodb";
import { fieldOf, type EntitySpec } from "../../domain/index.js";
import { InvalidRequestError } from "../errors.js";
import { keyFilter, parseObjectId, usesObjectIdKey } from "./documents.js";

export interface RecordFilter {
  keys?: string[][];
  statuses?: string[];
  userIds?: string[];
  courseIds?: string[];
  roles?: string[];
  sessionIds?: string[];
  actions?: string[];
  timeRanges?: { field: string; from?: Date; to?: Date }[];
}

/** Which stored field each list filter applies to, per entity ("users" filter userIds by username). */
function listFilterField(spec: EntitySpec, filter: "statuses" | "userIds" | "courseIds" | "roles" | "sessionIds" | "actions"): string {
  const byEntity: Record<string, string> = {
    statuses: "status",
    userIds: spec.name === "users" ? "username" : "userId",
    courseIds: spec.name === "courses" ? "code" : "courseId",
    roles: "role",
    sessionIds: "sessionId",
    actions: "action",
  };
  const field = byEntity[filter]!;
  if (!fieldOf(spec, field))
    throw new InvalidRequestError(`${spec.name} cannot be filtered by ${filter}: it has no ${field} field`, [{ field: `filter.${filter}`, reason: `${spec.name} has no ${field}` }]);
  return field;
}

/**
 * A filter value a field of fixed values (status, role, action) cannot hold
 * matches no record: `status=suspnded` would export an empty file and call it
 * done. It is refused instead, naming the values the field has.
 */
function refuseValuesNoRecordHas(spec: EntitySpec, field: string, filter: string, values: readonly string[]): void {
  const allowed = fieldOf(spec, field)?.allowedValues;
  const unknown = allowed ? values.filter((v) => !allowed.includes(v)) : [];
  if (unknown.length === 0) return;
  const reason = `${spec.name}.${field} is one of ${allowed!.join(", ")}; no record has ${unknown.map((v) => JSON.stringify(v)).join(", ")}`;
  throw new InvalidRequestError(`cannot filter by ${reason}`, [{ field: `filter.${filter}`, reason }]);
}

export function buildQuery(spec: EntitySpec, filter: RecordFilter | undefined): Document {
  const and: Document[] = [];
  if (!filter) return {};
  if (filter.keys && filter.keys.length > 0) {
    if (usesObjectIdKey(spec)) and.push({ _id: { $in: filter.keys.map((k) => parseObjectId(k[0] ?? "", "filter.keys")) } });
    else if (spec.keyFields.length === 1) and.push({ [spec.keyFields[0]!]: { $in: filter.keys.map((k) => keyFilter(spec, k)[spec.keyFields[0]!]) } });
    else and.push({ $or: filter.keys.map((k) => keyFilter(spec, k)) });
  }
  for (const name of ["statuses", "userIds", "courseIds", "roles", "sessionIds", "actions"] as const) {
    const values = filter[name];
    if (!values || values.length === 0) continue;
    const field = listFilterField(spec, name);
    refuseValuesNoRecordHas(spec, field, name, values);
    and.push({ [field]: values.length === 1 ? values[0] : { $in: values } });
  }
  for (const range of filter.timeRanges ?? []) {
    if (!spec.timeFields.includes(range.field)) {
      throw new InvalidRequestError(`${spec.name} has no time field "${range.field}"; use one of ${spec.timeFields.join(", ")}`, [
        { field: "filter.timeRanges.field", reason: `must be one of ${spec.timeFields.join(", ")}` },
      ]);
    }
    const condition: Document = {};
    if (range.from) condition.$gte = range.from;
    if (range.to) condition.$lt = range.to;
    if (range.from && range.to && range.to <= range.from) {
      throw new InvalidRequestError(`the time range on ${range.field} is empty: "to" must be after "from"`, [{ field: "filter.timeRanges", reason: "to must be after from" }]);
    }
    if (Object.keys(condition).length > 0) and.push({ [range.field]: condition });
  }
  if (and.length === 0) return {};
  return and.length === 1 ? and[0]! : { $and: and };
}

/** Stored fields that can be selected, sorted on and returned. */
function checkSelectable(spec: EntitySpec, key: string, what: string): void {
  const field = fieldOf(spec, key);
  if (!field || field.writeOnly) {
    throw new InvalidRequestError(`${spec.name} has no ${what} field "${key}"`, [{ field: key, reason: `is not a readable field of ${spec.name}` }]);
  }
}

/**
 * A projection for the selected fields. Joined (read-only, not stored) fields
 * are accepted and left to the join step; the hidden fields are always
 * excluded.
 */
export function buildProjection(spec: EntitySpec, fields: readonly string[]): Document {
  if (fields.length === 0) return { passwordHash: 0 };
  const projection: Document = {};
  for (const key of fields) {
    checkSelectable(spec, key, "selectable");
    if (key === "id") continue;
    projection[key] = 1;
  }
  projection._id = usesObjectIdKey(spec) && fields.includes("id") ? 1 : 0;
  return projection;
}

export function buildSort(spec: EntitySpec, sort: readonly { field: string; descending: boolean }[]): Sort | undefined {
  if (sort.length === 0) return undefined;
  const out: Record<string, 1 | -1> = {};
  for (const s of sort) {
    checkSelectable(spec, s.field, "sortable");
    const field = fieldOf(spec, s.field)!;
    if (field.readOnly && s.field !== "id" && s.field !== spec.changeField)
      throw new InvalidRequestError(`cannot sort ${spec.name} by the joined field "${s.field}"`, [{ field: s.field, reason: "joined fields cannot be sorted on" }]);
    out[s.field === "id" ? "_id" : s.field] = s.descending ? -1 : 1;
  }
  return out;
}
