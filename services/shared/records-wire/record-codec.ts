/**
 * The one codec between the wire records (protobuf-es messages) and plain
 * records, for both services: the records service decodes writes and encodes
 * responses, the transfer service encodes its imports' writes and decodes its
 * exports. Proto field names are the domain's field keys in camelCase, so the
 * conversion is driven by the entity's field table: timestamps and joined
 * activity entries are converted, a Struct arrives as a plain object. The
 * directions differ only where {@link RecordEncoding} says.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { finerThanMillisecondsReason, millisecondDate } from "../rpc/millisecond-timestamps.js";
import { undeclaredFieldNumbers } from "../rpc/undeclared-fields.js";
import type { EntityName, EntitySpec, FieldSpec, FieldType as DomainFieldType } from "../../domain/index.js";
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

/** `field`: the record's field at fault, when one is (a timestamp finer than a millisecond). */
export type DecodeResult = { ok: true; record: Record<string, unknown> } | { ok: false; reason: string; field?: string };

/**
 * An `EntityRecord` that was read from its wire bytes straight to its plain
 * record (records-read.ts), for the binary transports of the two hot
 * receiving paths. It stands where the transport's message would, so that
 * the code between the transport and {@link decodeRecord} keeps its types;
 * to protobuf-es it looks like an empty record (its fields are not message
 * fields), so it is never sent on: only {@link decodeRecord} reads it.
 */
export class PlainEntityRecord {
  readonly $typeName = EntityRecordSchema.typeName;
  readonly kind = { case: undefined };
  constructor(
    /** The record's case, as the wire said. */
    readonly recordCase: (typeof RECORD_CASE)[EntityName],
    readonly record: Record<string, unknown>,
  ) {}
}

/**
 * A wire record as a plain record of the fields it carries: timestamps become
 * Dates and joined activity entries plain records, whichever side reads it
 * (the records service decoding a write, the transfer service an export).
 */
export function decodeRecord(spec: EntitySpec, message: EntityRecord | undefined): DecodeResult {
  const expected = RECORD_CASE[spec.name];
  if (message instanceof PlainEntityRecord) {
    if (message.recordCase !== expected) return { ok: false, reason: `the record is a ${message.recordCase}, but this call writes ${spec.name}` };
    return { ok: true, record: message.record };
  }
  if (!message || message.kind.case === undefined) {
    const undeclared = undeclaredFields(message);
    if (undeclared) return { ok: false, reason: `the record is of a kind this service does not know (field ${undeclared} of EntityRecord); expected a ${expected}` };
    return { ok: false, reason: `the record is empty; expected a ${expected}` };
  }
  if (message.kind.case !== expected) return { ok: false, reason: `the record is a ${message.kind.case}, but this call writes ${spec.name}` };
  try {
    return { ok: true, record: plainFields(spec, message.kind.value as unknown as Record<string, unknown>) };
  } catch (error) {
    if (error instanceof UndecodableRecord) return { ok: false, reason: error.message, field: error.field };
    throw error;
  }
}

/** A record that cannot be taken as it came; turned into a decode failure by decodeRecord. */
class UndecodableRecord extends Error {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(reason);
  }
}

/**
 * The field numbers a parsed record carries that records.proto does not
 * declare, joined for a reason. A sender built from a newer schema would
 * otherwise have that field dropped without a word — written without it, or
 * exported without its column — so such a record is refused instead; the JSON
 * encodings refuse an unknown field name the same way.
 */
function undeclaredFields(message: unknown): string | undefined {
  return undeclaredFieldNumbers(message)?.join(", ");
}

function plainFields(spec: EntitySpec, source: Record<string, unknown>, path = ""): Record<string, unknown> {
  const undeclared = undeclaredFields(source);
  if (undeclared) {
    const what = path ? `${path.slice(0, -1)} (an entry of ${spec.name})` : `the ${RECORD_CASE[spec.name]} record`;
    throw new UndecodableRecord(
      path ? path.slice(0, -1) : "record",
      `${what} carries field number ${undeclared}, which this service's records.proto does not declare (a sender built from a newer schema?); refused rather than taken without it`,
    );
  }
  const record: Record<string, unknown> = {};
  for (const field of spec.fields) {
    const value = source[field.key];
    if (value === undefined) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    if (field.type === "timestamp") {
      const date = millisecondDate(value as Timestamp);
      if (!date) throw new UndecodableRecord(`${path}${field.key}`, finerThanMillisecondsReason(`${path}${field.key}`, value as Timestamp, "value"));
      record[field.key] = date;
    } else if (field.type === "object_list") record[field.key] = (value as Record<string, unknown>[]).map((entry, i) => plainFields(ENTITIES.activity, entry, `${path}${field.key}[${i}].`));
    else record[field.key] = value;
  }
  return record;
}

/**
 * What a wire record is encoded for: the one choice the codec leaves to its
 * callers, since the two directions differ on write-only fields.
 *
 * - `"response"`: a stored record on its way out to a caller. Write-only
 *   fields (a password) never leave the records service; read-only ones (set
 *   or joined by the server) do. Values go as stored: the store validated them
 *   on their way in.
 * - `"write"`: a record on its way in, to be written (the transfer service's
 *   imports). Write-only fields are sent (the records service hashes the
 *   password); read-only ones are not (the records service ignores them).
 *   Each value is checked against its wire field type, since it comes from a
 *   file: {@link UnencodableValueError} (the transfer core validates first, so
 *   this is a safety net).
 */
export type RecordEncoding = "response" | "write";

/** Raised for a value the wire cannot carry in its field, when encoding a record for a write. */
export class UnencodableValueError extends Error {
  override name = "UnencodableValueError";
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(reason);
  }
}

/** A plain record as a wire record, for a response or for a write ({@link RecordEncoding}). */
export function encodeRecord(spec: EntitySpec, record: Record<string, unknown>, encoding: RecordEncoding): EntityRecord {
  return create(EntityRecordSchema, { kind: { case: RECORD_CASE[spec.name], value: wireFields(spec, record, encoding) } } as MessageInitShape<typeof EntityRecordSchema>);
}

function wireFields(spec: EntitySpec, record: Record<string, unknown>, encoding: RecordEncoding): Record<string, unknown> {
  const init: Record<string, unknown> = {};
  for (const field of spec.fields) {
    if (encoding === "write" ? field.readOnly : field.writeOnly) continue;
    const value = record[field.key];
    if (value === undefined || value === null) continue;
    const wire = encoding === "write" ? checkedWireValue(field, value) : storedWireValue(field, value);
    if (wire !== undefined) init[field.key] = wire;
  }
  return init;
}

/** A stored value as its wire field holds it (a response). */
function storedWireValue(field: FieldSpec, value: unknown): unknown {
  if (field.type === "timestamp") return value instanceof Date ? timestampFromDate(value) : undefined;
  if (field.type === "object_list") return (value as Record<string, unknown>[]).map((entry) => create(ActivitySchema, wireFields(ENTITIES.activity, entry, "response")));
  return value;
}

/** A value from a file as its wire field holds it, or {@link UnencodableValueError} (a write; list fields are read-only). */
function checkedWireValue(field: FieldSpec, value: unknown): unknown {
  switch (field.type) {
    case "timestamp":
      if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new UnencodableValueError(field.key, "expected a timestamp");
      return timestampFromDate(value);
    case "string":
      if (typeof value !== "string") throw new UnencodableValueError(field.key, "expected text");
      return value;
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) throw new UnencodableValueError(field.key, "expected a finite number");
      return value;
    case "boolean":
      if (typeof value !== "boolean") throw new UnencodableValueError(field.key, "expected true or false");
      return value;
    case "object":
      if (typeof value !== "object" || Array.isArray(value)) throw new UnencodableValueError(field.key, "expected an object");
      // A Struct holds JSON only: a Date or an undefined inside becomes what JSON makes of it.
      return JSON.parse(JSON.stringify(value)) as unknown;
    default:
      return undefined;
  }
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
