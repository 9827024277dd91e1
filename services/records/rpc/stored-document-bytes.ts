/**
 * Stored documents, as the database sent them (BSON), straight to wire
 * records, without making a JavaScript object of either. On an export this
 * is most of the records service's work per record: the driver decoding each
 * document into an object (strings decoded from UTF-8, a `Date` per time
 * field), `documentToRecord` copying it, and record-bytes.ts writing the
 * object out again as protobuf — whose strings are the same UTF-8 bytes the
 * document held. Measured on 100k sessions end to end (`npm run bench --
 * --quick --n 100000 --rounds 3 --only export,e2e`, 2 December 2026, before
 * and after, same machine and hour): the records service's CPU per exported
 * record fell from 33–35 µs to 19–21 µs, and the export's wall-time ratio to
 * the direct baseline went from 0.83× to 0.89× (bench/README.md, "Stored
 * documents straight to the wire"). In one process, a 500-session batch
 * costs ~2 µs a record here against ~6 µs decoded and re-encoded (~2.7 µs while element names were made into strings for a `Map`).
 *
 * The bytes are exactly those of the path they replace,
 * `encodedRecord(spec, access.filter(spec, documentToRecord(spec, deserialize(doc))), "response")`
 * (test/records/stored-document-bytes.test.ts compares them byte for byte):
 * fields in declaration order, the last of a repeated key, hidden and
 * personal fields left out, a UTF-8 string copied as it is. Only what
 * record-bytes.ts writes itself is transcoded — strings, doubles (and int32s
 * the driver reads as numbers), booleans, valid dates, lists of strings and
 * nulls. A document holding anything else (a free-form object, a 64-bit
 * integer, a date outside JavaScript's range, bytes that are not UTF-8, BSON
 * that does not parse) takes that path instead, whole, so it is encoded — or
 * refused with the driver's own error — as before. One difference, on
 * purpose: values that are never sent (hidden fields, fields this caller may
 * not see, keys that are not the entity's, a time field holding text) are
 * stepped over unread, so bytes in them that are not UTF-8 no longer stop
 * the export the way decoding the whole document did.
 */
import { isUtf8 } from "node:buffer";
import { WireType } from "@bufbuild/protobuf/wire";
import { BSON } from "mongodb";
import type { EntityName, EntitySpec } from "../../domain/index.js";
import { ENTITIES } from "../../domain/index.js";
import { encodedRecord, recordPlan, type FieldWrite, type RecordPlan } from "../../shared/records-wire/record-bytes.js";
import { WireSink, varintLength, writeVarint } from "../../shared/records-wire/wire-sink.js";
import { documentToRecord, usesObjectIdKey } from "../store/documents.js";

// BSON element types (bsonspec.org) this file reads, or must know the size of to step over.
const DOUBLE = 0x01;
const STRING = 0x02;
const DOCUMENT = 0x03;
const ARRAY = 0x04;
const BINARY = 0x05;
const UNDEFINED = 0x06;
const OBJECT_ID = 0x07;
const BOOLEAN = 0x08;
const DATE = 0x09;
const NULL = 0x0a;
const INT32 = 0x10;
const TIMESTAMP = 0x11;
const INT64 = 0x12;
const DECIMAL128 = 0x13;
const MIN_KEY = 0xff;
const MAX_KEY = 0x7f;

/** The largest time a JavaScript `Date` holds, in ms either side of 1970: past it the driver makes an invalid Date. */
const MAX_DATE_MS = 8.64e15;

interface StoredPlan extends Pick<RecordPlan, "tag"> {
  fields: FieldWrite[];
  /**
   * A field's position in `fields` by its stored key's bytes (the same key: a
   * document is the record plus hidden fields), grouped by the key's length,
   * so an element's name is matched without making a string of it.
   */
  keysByLength: { bytes: Uint8Array; slot: number }[][];
  /** The position of `id` when the entity's key is the document's ObjectId `_id` (activity), else -1. */
  objectIdSlot: number;
}

function storedPlanFor(spec: EntitySpec): StoredPlan {
  const plan = recordPlan(spec);
  const fields = plan.fields.response;
  const keysByLength: { bytes: Uint8Array; slot: number }[][] = [];
  const named = [...fields.map((f, slot) => ({ bytes: Buffer.from(f.key, "utf8"), slot })), { bytes: ID_KEY, slot: ID_SLOT }];
  for (const key of named) (keysByLength[key.bytes.length] ??= []).push(key);
  const idSlot = fields.findIndex((f) => f.key === "id");
  return { fields, keysByLength, tag: plan.tag, objectIdSlot: usesObjectIdKey(spec) ? idSlot : -1 };
}

/** `_id`, matched like a field's key, to a slot of its own. */
const ID_KEY = Buffer.from("_id", "utf8");
const ID_SLOT = -2;

const PLANS = Object.fromEntries((Object.keys(ENTITIES) as EntityName[]).map((name) => [name, storedPlanFor(ENTITIES[name])])) as Record<EntityName, StoredPlan>;

/** Where each field's value was found in the document being read: its BSON type and offset (−1: absent); as many as the widest entity has fields. */
const MOST_FIELDS = Math.max(...Object.values(PLANS).map((plan) => plan.fields.length));
const slotType = new Int32Array(MOST_FIELDS);
const slotAt = new Int32Array(MOST_FIELDS);
/** Each record's bytes in the shared sink: [start, end) pairs. */
let spans = new Int32Array(2 * 512);
const sink = new WireSink();

/**
 * The wire records of one batch of stored documents (each a whole BSON
 * document, as the driver's `raw` cursor returns them), for a response, each
 * as an `EntityRecord`'s bytes (records-as-bytes.ts): `omit` names the fields
 * this caller may not see (personal data).
 */
export function storedDocumentsToWire(spec: EntitySpec, documents: readonly Uint8Array[], omit: ReadonlySet<string>): Uint8Array[] {
  const plan = PLANS[spec.name];
  const records: Uint8Array[] = new Array(documents.length);
  if (spans.length < 2 * documents.length) spans = new Int32Array(2 * documents.length);
  const tagLength = varintLength(plan.tag);
  sink.pos = 0;
  let total = 0;
  for (let i = 0; i < documents.length; i++) {
    const start = sink.pos;
    if (transcode(plan, asBuffer(documents[i]!), omit)) {
      spans[2 * i] = start;
      spans[2 * i + 1] = sink.pos;
      total += tagLength + varintLength(sink.pos - start) + sink.pos - start;
    } else {
      // Whatever the document held that this file does not write, the path it replaces judges it (and may throw as it did).
      sink.pos = start;
      spans[2 * i] = -1;
      const record = documentToRecord(spec, BSON.deserialize(documents[i]!));
      for (const key of omit) delete record[key];
      records[i] = encodedRecord(spec, record, "response");
    }
  }
  // One allocation for the batch; each record is its case's tag, the length of the case's message, then its fields.
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < documents.length; i++) {
    const start = spans[2 * i]!;
    if (start < 0) continue;
    const end = spans[2 * i + 1]!;
    const from = at;
    at = writeVarint(out, writeVarint(out, at, plan.tag), end - start);
    sink.buf.copy(out, at, start, end);
    at += end - start;
    records[i] = out.subarray(from, at);
  }
  return records;
}

/** Writes one document's fields into the sink; false (having written part of it) when the document needs the decoding path. */
function transcode(plan: StoredPlan, doc: Buffer, omit: ReadonlySet<string>): boolean {
  const count = plan.fields.length;
  slotType.fill(-1, 0, count);
  if (doc.length < 5) return false;
  const size = doc.readInt32LE(0);
  if (size !== doc.length || doc[size - 1] !== 0) return false;
  let objectIdAt = -1;
  let pos = 4;
  for (;;) {
    const type = doc[pos++]!;
    if (type === 0) return pos === size && writeSlots(plan, doc, omit, objectIdAt);
    const nameStart = pos;
    while (pos < size && doc[pos] !== 0) pos++;
    if (pos >= size - 1) return false;
    const nameEnd = pos++;
    const valueAt = pos;
    const length = valueLength(doc, type, pos, size);
    if (length < 0) return false;
    pos += length;
    if (pos > size - 1) return false;
    const slot = slotOf(plan, doc, nameStart, nameEnd);
    if (slot === ID_SLOT) {
      // The last `_id` counts, as in a decoded object.
      objectIdAt = type === OBJECT_ID ? valueAt : -1;
      continue;
    }
    if (slot < 0) continue;
    slotType[slot] = type;
    slotAt[slot] = valueAt;
  }
}

/** The fields found, in declaration order; false at a value record-bytes.ts would not write itself. */
function writeSlots(plan: StoredPlan, doc: Buffer, omit: ReadonlySet<string>, objectIdAt: number): boolean {
  const fields = plan.fields;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    if (omit.size > 0 && omit.has(field.key)) continue;
    if (i === plan.objectIdSlot && objectIdAt >= 0) {
      // documentToRecord sets `id` from the ObjectId `_id`, over any stored `id`.
      sink.tag(field.number, WireType.LengthDelimited);
      sink.string(doc.toString("hex", objectIdAt, objectIdAt + 12));
      continue;
    }
    const type = slotType[i]!;
    if (type === -1 || type === NULL || type === UNDEFINED) continue;
    const at = slotAt[i]!;
    switch (field.kind) {
      case "string":
        if (type !== STRING || !writeString(field.number, doc, at)) return false;
        break;
      case "double":
        if (type === DOUBLE) {
          sink.tag(field.number, WireType.Bit64);
          sink.double(doc.readDoubleLE(at));
        } else if (type === INT32) {
          sink.tag(field.number, WireType.Bit64);
          sink.double(doc.readInt32LE(at));
        } else return false;
        break;
      case "bool":
        if (type !== BOOLEAN || doc[at]! > 1) return false;
        sink.tag(field.number, WireType.Varint);
        sink.varint(doc[at]!);
        break;
      case "timestamp": {
        // A response leaves out a stored value that is not a date (record-bytes.ts); a date out of range is the codec's to judge.
        if (type !== DATE) {
          if (type === DOUBLE || type === STRING || type === INT32 || type === BOOLEAN) continue;
          return false;
        }
        const ms = doc.readInt32LE(at + 4) * 4294967296 + doc.readUInt32LE(at);
        if (!(Math.abs(ms) <= MAX_DATE_MS)) return false;
        sink.tag(field.number, WireType.LengthDelimited);
        sink.timestamp(ms);
        break;
      }
      case "strings": {
        if (type !== ARRAY) return false;
        // The list's elements, in order (a decoded array ignores their keys); each must be a string within the list's bytes.
        const end = at + doc.readInt32LE(at) - 1;
        let pos = at + 4;
        while (pos < end) {
          if (doc[pos++] !== STRING) return false;
          while (pos < end && doc[pos] !== 0) pos++;
          pos++;
          const length = valueLength(doc, STRING, pos, end);
          if (length < 0 || !writeString(field.number, doc, pos)) return false;
          pos += length;
        }
        if (pos !== end) return false;
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

/** A BSON string's UTF-8 bytes as a length-delimited field; false when they are not valid UTF-8 (the driver refuses those). */
function writeString(fieldNo: number, doc: Buffer, at: number): boolean {
  const length = doc.readInt32LE(at);
  const start = at + 4;
  const end = start + length - 1;
  for (let i = start; i < end; i++) {
    if (doc[i]! >= 0x80) {
      if (!isUtf8(doc.subarray(start, end))) return false;
      break;
    }
  }
  sink.tag(fieldNo, WireType.LengthDelimited);
  sink.bytes(doc, start, end);
  return true;
}

/** The slot of the field named by the bytes [start, end), {@link ID_SLOT} for `_id`, −1 for a name that is neither. */
function slotOf(plan: StoredPlan, doc: Buffer, start: number, end: number): number {
  const candidates = plan.keysByLength[end - start];
  if (candidates === undefined) return -1;
  next: for (const { bytes, slot } of candidates) {
    for (let i = 0; i < bytes.length; i++) if (bytes[i] !== doc[start + i]) continue next;
    return slot;
  }
  return -1;
}

/**
 * The size of an element's value at `at`, checked against the document's
 * end; −1 for a type this file does not step over, or a size that cannot be
 * right (either sends the document down the decoding path, which decides).
 */
function valueLength(doc: Buffer, type: number, at: number, size: number): number {
  switch (type) {
    case DOUBLE:
    case DATE:
    case INT64:
    case TIMESTAMP:
      return 8;
    case INT32:
      return 4;
    case BOOLEAN:
      return 1;
    case OBJECT_ID:
      return 12;
    case NULL:
    case UNDEFINED:
    case MIN_KEY:
    case MAX_KEY:
      return 0;
    case DECIMAL128:
      return 16;
    case STRING: {
      if (at + 4 > size) return -1;
      const length = doc.readInt32LE(at);
      if (length <= 0 || at + 4 + length > size || doc[at + 4 + length - 1] !== 0) return -1;
      return 4 + length;
    }
    case DOCUMENT:
    case ARRAY: {
      if (at + 4 > size) return -1;
      const length = doc.readInt32LE(at);
      if (length < 5 || at + length > size || doc[at + length - 1] !== 0) return -1;
      return length;
    }
    case BINARY: {
      if (at + 5 > size) return -1;
      const length = doc.readInt32LE(at);
      if (length < 0 || at + 5 + length > size) return -1;
      return 5 + length;
    }
    default:
      return -1;
  }
}

/** The driver hands documents over as Buffers (views of its reply); anything else is viewed as one, for Buffer's readers. */
function asBuffer(doc: Uint8Array): Buffer {
  return Buffer.isBuffer(doc) ? doc : Buffer.from(doc.buffer, doc.byteOffset, doc.byteLength);
}
