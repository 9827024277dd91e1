/**
 * Plain records to an `EntityRecord`'s bytes without protobuf-es building
 * and then walking a message by reflection for each: the hot half of both
 * services' record traffic (the records service answering StreamRecords for
 * records it had to decode, the transfer service sending an import's
 * WriteRecords batches; batches carry the bytes as they are,
 * records-as-bytes.ts). Profiles of the end-to-end bench rows showed
 * protobuf-es's reflective `create` + `toBinary` of every record as the
 * largest piece of either service's own CPU on those paths (the direct
 * baselines pay nothing of the kind).
 *
 * The bytes are exactly what `toBinary` writes for `encodeRecord(…)`
 * (record-codec.ts; the test compares them byte for byte): fields in
 * declaration order, the same choice of fields for each {@link RecordEncoding},
 * the same values. Only the common shapes are written here — text, numbers,
 * booleans, timestamps and lists of text, each of the type its field
 * declares. A record holding anything else (a free-form object, joined
 * activity entries, a stored value of an unexpected type, an invalid date, a
 * value a write must refuse) goes through the reflective codec instead, so
 * every record is encoded, or refused, the way it was before.
 */
import { toBinary } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { EntityRecordSchema } from "../../../gen/dataexchange/records/v1/records_pb.js";
import type { EntityName, EntitySpec, FieldSpec } from "../../domain/index.js";
import { ENTITIES } from "../../domain/index.js";
import { encodeRecord, type RecordEncoding } from "./record-codec.js";
import { entityCase, wireFieldKind, type WireFieldKind } from "./record-wire-fields.js";
import { WireSink, varintLength, writeVarint } from "./wire-sink.js";

/** How one field is written; `complex` fields (objects, lists of objects) send their record down the reflective path. */
export type FieldWrite = { number: number; key: string; kind: WireFieldKind; domain: FieldSpec };

export interface RecordPlan {
  /** The tag of the entity's `EntityRecord.kind` case: its field number, length-delimited. */
  tag: number;
  /** Fields of the entity's message in declaration order, for each encoding. */
  fields: Record<RecordEncoding, FieldWrite[]>;
}

/** Each entity's fields as its wire message declares them, matched to the domain's field table by key. */
function planFor(spec: EntitySpec): RecordPlan {
  const { number: caseNumber, message } = entityCase(spec);
  const all: FieldWrite[] = [];
  for (const field of message.fields) {
    const domain = spec.fields.find((f) => f.key === field.localName);
    if (domain) all.push({ number: field.number, key: field.localName, kind: wireFieldKind(field), domain });
  }
  return {
    tag: caseNumber * 8 + WireType.LengthDelimited,
    fields: {
      // As record-codec.ts's wireFields: a write leaves out read-only fields, a response write-only ones.
      write: all.filter((f) => !f.domain.readOnly),
      response: all.filter((f) => !f.domain.writeOnly),
    },
  };
}

const PLANS = Object.fromEntries((Object.keys(ENTITIES) as EntityName[]).map((name) => [name, planFor(ENTITIES[name])])) as Record<EntityName, RecordPlan>;

/** How `spec`'s records are written on the wire: its case's tag and its fields in declaration order. */
export function recordPlan(spec: EntitySpec): RecordPlan {
  return PLANS[spec.name];
}

/**
 * The record's bytes as an `EntityRecord` on the wire — its case's tag, then
 * the length and fields of the case's message — for a batch whose records
 * travel as bytes (records-as-bytes.ts): the bytes `toBinary` writes for
 * `encodeRecord(…)`, which a record this path does not expect goes through
 * (and a write's unencodable value throws its `UnencodableValueError` from there).
 */
export function encodedRecord(spec: EntitySpec, record: Record<string, unknown>, encoding: RecordEncoding): Uint8Array {
  const plan = PLANS[spec.name];
  sink.pos = 0;
  if (!writeFields(sink, plan.fields[encoding], record, encoding)) return toBinary(EntityRecordSchema, encodeRecord(spec, record, encoding));
  const length = sink.pos;
  const data = Buffer.allocUnsafe(varintLength(plan.tag) + varintLength(length) + length);
  const at = writeVarint(data, writeVarint(data, 0, plan.tag), length);
  sink.buf.copy(data, at, 0, length);
  return data;
}

/** Writes the fields of the common shapes; false at the first value that needs the reflective path. */
function writeFields(out: WireSink, fields: FieldWrite[], record: Record<string, unknown>, encoding: RecordEncoding): boolean {
  for (const field of fields) {
    const value = record[field.key];
    if (value === undefined || value === null) continue;
    switch (field.kind) {
      case "string":
        if (typeof value !== "string") return false;
        out.tag(field.number, WireType.LengthDelimited);
        out.string(value);
        break;
      case "double":
        // A response sends a stored number as it is; a write refuses NaN and infinities (the codec names them).
        if (typeof value !== "number" || (encoding === "write" && !Number.isFinite(value))) return false;
        out.tag(field.number, WireType.Bit64);
        out.double(value);
        break;
      case "bool":
        if (typeof value !== "boolean") return false;
        out.tag(field.number, WireType.Varint);
        out.varint(value ? 1 : 0);
        break;
      case "timestamp":
        if (value instanceof Date && !Number.isNaN(value.getTime())) {
          out.tag(field.number, WireType.LengthDelimited);
          out.timestamp(value.getTime());
          break;
        }
        // A response leaves out a stored value that is not a Date; anything else (an invalid Date, a write) is the codec's to judge.
        if (encoding === "response" && !(value instanceof Date)) continue;
        return false;
      case "strings":
        // A write sends no list (they are read-only; the codec's write path has no case for them).
        if (encoding === "write") continue;
        if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) return false;
        for (const item of value as string[]) {
          out.tag(field.number, WireType.LengthDelimited);
          out.string(item);
        }
        break;
      default:
        return false;
    }
  }
  return true;
}

const sink = new WireSink();
