/**
 * Converts between the wire records (protobuf-es messages) and the plain
 * records the store validates and writes. Proto field names are the domain's
 * field keys in camelCase, so the conversion is driven by the entity's field
 * table; only timestamps need converting (Struct arrives as a plain object).
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { EntityName, EntitySpec, FieldType as DomainFieldType } from "../../domain/index.js";
import { ENTITIES } from "../../domain/index.js";
import { ActivitySchema, Entity, EntityRecordSchema, FieldType, type EntityRecord } from "../../../gen/dataexchange/records/v1/records_pb.js";

/** The EntityRecord oneof case of each entity. */
export const RECORD_CASE: Record<EntityName, "user" | "course" | "session" | "enrollment" | "activity"> = {
  users: "user",
  courses: "course",
  sessions: "session",
  enrollments: "enrollment",
  activity: "activity",
};

const ENTITY_BY_ENUM: Record<number, EntityName> = {
  [Entity.USERS]: "users",
  [Entity.COURSES]: "courses",
  [Entity.SESSIONS]: "sessions",
  [Entity.ENROLLMENTS]: "enrollments",
  [Entity.ACTIVITY]: "activity",
};

export function entityName(value: Entity): EntityName | undefined {
  return ENTITY_BY_ENUM[value];
}

export function entityEnum(name: EntityName): Entity {
  return Number(Object.entries(ENTITY_BY_ENUM).find(([, n]) => n === name)![0]) as Entity;
}

export type DecodeResult = { ok: true; record: Record<string, unknown> } | { ok: false; reason: string };

/** A wire record as a plain record of the fields it carries. */
export function decodeRecord(spec: EntitySpec, message: EntityRecord | undefined): DecodeResult {
  const expected = RECORD_CASE[spec.name];
  if (!message || message.kind.case === undefined) return { ok: false, reason: `the record is empty; expected a ${expected}` };
  if (message.kind.case !== expected) return { ok: false, reason: `the record is a ${message.kind.case}, but this call writes ${spec.name}` };
  const source = message.kind.value as unknown as Record<string, unknown>;
  const record: Record<string, unknown> = {};
  for (const field of spec.fields) {
    const value = source[field.key];
    if (value === undefined) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    record[field.key] = field.type === "timestamp" ? timestampDate(value as Timestamp) : value;
  }
  return { ok: true, record };
}

/** A plain record as a wire record; write-only fields are never encoded. */
export function encodeRecord(spec: EntitySpec, record: Record<string, unknown>): EntityRecord {
  const init: Record<string, unknown> = {};
  for (const field of spec.fields) {
    if (field.writeOnly) continue;
    const value = record[field.key];
    if (value === undefined || value === null) continue;
    if (field.type === "timestamp") init[field.key] = value instanceof Date ? timestampFromDate(value) : undefined;
    else if (field.type === "object_list") init[field.key] = (value as Record<string, unknown>[]).map((a) => create(ActivitySchema, encodeFields(ENTITIES.activity, a)));
    else init[field.key] = value;
  }
  return create(EntityRecordSchema, { kind: { case: RECORD_CASE[spec.name], value: init } } as MessageInitShape<typeof EntityRecordSchema>);
}

function encodeFields(spec: EntitySpec, record: Record<string, unknown>): Record<string, unknown> {
  const init: Record<string, unknown> = {};
  for (const field of spec.fields) {
    if (field.writeOnly) continue;
    const value = record[field.key];
    if (value === undefined || value === null) continue;
    init[field.key] = field.type === "timestamp" && value instanceof Date ? timestampFromDate(value) : value;
  }
  return init;
}

const FIELD_TYPES: Record<DomainFieldType, FieldType> = {
  string: FieldType.STRING,
  number: FieldType.NUMBER,
  boolean: FieldType.BOOLEAN,
  timestamp: FieldType.TIMESTAMP,
  object: FieldType.OBJECT,
  string_list: FieldType.STRING_LIST,
  object_list: FieldType.OBJECT_LIST,
};

/** A field type (the domain's and the plugins' share the same names) as the wire enum. */
export function wireFieldType(type: DomainFieldType): FieldType {
  return FIELD_TYPES[type];
}
