/**
 * The records service's wire records as the plain records the transfer core
 * works with, and back: for an export (timestamps as Dates, joined activity
 * entries as plain objects) and for a write (write-only fields such as a
 * password are sent, which the shared codec never encodes since it also
 * serves responses; each value checked against the wire's field type).
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { ENTITIES, type EntitySpec } from "../../domain/index.js";
import { EntityRecordSchema, type EntityRecord } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { decodeRecord, RECORD_CASE } from "../../shared/records-wire/record-codec.js";

/**
 * A wire record as a plain record for export: timestamps become Dates, joined
 * activity entries become plain objects (decodeRecord leaves them as messages).
 */
export function recordForExport(spec: EntitySpec, message: EntityRecord): Record<string, unknown> | undefined {
  const decoded = decodeRecord(spec, message);
  if (!decoded.ok) return undefined;
  const record = decoded.record;
  for (const field of spec.fields) {
    if (field.type !== "object_list" || !Array.isArray(record[field.key])) continue;
    record[field.key] = (record[field.key] as Record<string, unknown>[]).map((entry) => plainOf(ENTITIES.activity, entry));
  }
  return record;
}

function plainOf(spec: EntitySpec, message: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of spec.fields) {
    const value = message[field.key];
    if (value === undefined) continue;
    out[field.key] = field.type === "timestamp" ? timestampDate(value as Timestamp) : value;
  }
  return out;
}

/** Raised for a value the wire cannot carry in its field (the core validates first, so this is a safety net). */
export class UnencodableValueError extends Error {
  override name = "UnencodableValueError";
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(reason);
  }
}

/**
 * A plain record as a wire record for writing. Unlike the records codec's
 * `encodeRecord` (made for responses), write-only fields (a password to be
 * hashed) are sent; read-only fields are not (the records service ignores
 * them anyway).
 */
export function recordForWrite(spec: EntitySpec, record: Record<string, unknown>): EntityRecord {
  const init: Record<string, unknown> = {};
  for (const field of spec.fields) {
    if (field.readOnly) continue;
    const value = record[field.key];
    if (value === undefined || value === null) continue;
    switch (field.type) {
      case "timestamp":
        if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new UnencodableValueError(field.key, "expected a timestamp");
        init[field.key] = timestampFromDate(value);
        break;
      case "string":
        if (typeof value !== "string") throw new UnencodableValueError(field.key, "expected text");
        init[field.key] = value;
        break;
      case "number":
        if (typeof value !== "number" || !Number.isFinite(value)) throw new UnencodableValueError(field.key, "expected a finite number");
        init[field.key] = value;
        break;
      case "boolean":
        if (typeof value !== "boolean") throw new UnencodableValueError(field.key, "expected true or false");
        init[field.key] = value;
        break;
      case "object":
        if (typeof value !== "object" || Array.isArray(value)) throw new UnencodableValueError(field.key, "expected an object");
        init[field.key] = JSON.parse(JSON.stringify(value)) as unknown;
        break;
      default:
        break;
    }
  }
  return create(EntityRecordSchema, { kind: { case: RECORD_CASE[spec.name], value: init } } as MessageInitShape<typeof EntityRecordSchema>);
}
