/**
 * The wire bytes of one entity's record (the message inside an
 * `EntityRecord`'s case) straight to the plain record `decodeRecord` makes of
 * it, without protobuf-es building a message by reflection and the codec then
 * walking it: the receiving half of record-bytes.ts. Profiles of the
 * end-to-end bench rows showed `fromBinary` + `decodeRecord` at 5–7 µs a
 * record on the two hot receiving paths (the transfer service reading
 * StreamRecords for an export, the records service reading WriteRecords for
 * an import).
 *
 * Only the common shapes are read here — text, numbers, booleans, timestamps
 * and lists of text in the fields their message declares. For anything else
 * (a Struct, joined activity entries, a field the message does not declare, a
 * field of an unexpected wire type, a repeated timestamp, a value out of
 * range, invalid UTF-8, truncated or malformed bytes) this returns `undefined`
 * and the caller reads the record the reflective way, which decodes it, or
 * refuses it (an undeclared field: decodeRecord), as before.
 */
// Before anything decodes a string: keep a leading U+FEFF (text-encoding.ts).
import "../rpc/text-encoding.js";
import { getTextEncoding, WireType } from "@bufbuild/protobuf/wire";
import type { EntityName, EntitySpec } from "../../domain/index.js";
import { ENTITIES } from "../../domain/index.js";
import { entityCase, wireFieldKind, type WireFieldKind } from "./record-wire-fields.js";

type FieldRead = { slot: number; kind: WireFieldKind };

interface ReadPlan {
  /** The domain's field keys, in the order `decodeRecord` writes them. */
  keys: string[];
  /** Each field number of the entity's message, how it is read and into which key. */
  byNumber: (FieldRead | undefined)[];
}

function planFor(spec: EntitySpec): ReadPlan {
  const { message } = entityCase(spec);
  const keys = spec.fields.map((f) => f.key);
  const byNumber: (FieldRead | undefined)[] = [];
  for (const field of message.fields) {
    const slot = keys.indexOf(field.localName);
    // A declared field the domain does not know is still read (and checked) by protobuf-es: left to it.
    byNumber[field.number] = { slot, kind: slot < 0 ? "complex" : wireFieldKind(field) };
  }
  return { keys, byNumber };
}

const PLANS = Object.fromEntries((Object.keys(ENTITIES) as EntityName[]).map((name) => [name, planFor(ENTITIES[name])])) as Record<EntityName, ReadPlan>;

const utf8 = getTextEncoding();

/** Why a record goes the reflective way; thrown inside the reader only, never out of it. */
const UNUSUAL = Symbol("unusual");

/**
 * `decodeRecord(spec, fromBinary(EntityRecordSchema, bytes))`'s record, for
 * the bytes `bytes[start, end)` of the entity's own message (the case's
 * payload, after its tag and length), or `undefined` when the record is not
 * one of the common shapes (see the module's TSDoc).
 */
export function plainRecordFromBytes(spec: EntitySpec, bytes: Uint8Array, start: number, end: number): Record<string, unknown> | undefined {
  const buf = asBuffer(bytes);
  try {
    return readRecord(PLANS[spec.name], new Reader(buf, start, end));
  } catch (error) {
    if (error === UNUSUAL) return undefined;
    throw error;
  }
}

/**
 * The case of an `EntityRecord`'s bytes — its field number, and where the
 * entity's message starts — when the bytes are exactly one case: a
 * length-delimited tag, the length, the message to the end. `undefined` for
 * anything else (no case, several fields, bytes after it, a malformed
 * varint), which the caller reads the reflective way.
 */
export function singleCaseOf(bytes: Uint8Array): { caseNumber: number; start: number } | undefined {
  const reader = new Reader(asBuffer(bytes), 0, bytes.length);
  try {
    const tag = reader.varint32();
    if ((tag & 7) !== WireType.LengthDelimited) return undefined;
    const length = reader.length();
    return reader.pos + length === bytes.length ? { caseNumber: tag >>> 3, start: reader.pos } : undefined;
  } catch (error) {
    if (error === UNUSUAL) return undefined;
    throw error;
  }
}

/** The bytes as a Buffer (a view, not a copy), which the reader's text decoding needs. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function readRecord(plan: ReadPlan, reader: Reader): Record<string, unknown> {
  const values: unknown[] = new Array(plan.keys.length);
  while (reader.pos < reader.end) {
    const tag = reader.varint32();
    const no = tag >>> 3;
    const wireType = tag & 7;
    if (no === 0) throw UNUSUAL;
    const field = plan.byNumber[no];
    // A field this schema does not declare: protobuf-es keeps it aside, where decodeRecord refuses it.
    if (!field) throw UNUSUAL;
    switch (field.kind) {
      case "string":
        if (wireType !== WireType.LengthDelimited) throw UNUSUAL;
        values[field.slot] = reader.string();
        break;
      case "double":
        if (wireType !== WireType.Bit64) throw UNUSUAL;
        values[field.slot] = reader.double();
        break;
      case "bool":
        if (wireType !== WireType.Varint) throw UNUSUAL;
        values[field.slot] = reader.bool();
        break;
      case "timestamp":
        // A second occurrence would be merged into the first by protobuf-es: left to it.
        if (wireType !== WireType.LengthDelimited || values[field.slot] !== undefined) throw UNUSUAL;
        values[field.slot] = reader.timestamp();
        break;
      case "strings": {
        if (wireType !== WireType.LengthDelimited) throw UNUSUAL;
        const list = (values[field.slot] as string[] | undefined) ?? (values[field.slot] = []);
        list.push(reader.string());
        break;
      }
      default:
        throw UNUSUAL;
    }
  }
  if (reader.pos !== reader.end) throw UNUSUAL;
  // In the domain's field order, as decodeRecord writes them.
  const record: Record<string, unknown> = {};
  for (let i = 0; i < values.length; i++) {
    if (values[i] !== undefined) record[plan.keys[i]!] = values[i];
  }
  return record;
}

/** The few protobuf reads a record needs; anything out of the ordinary throws {@link UNUSUAL}. */
class Reader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}

  /** A varint below 2^32 (tags, lengths); longer or truncated ones are unusual. */
  varint32(): number {
    // Most tags and lengths are one byte.
    if (this.pos < this.end && this.buf[this.pos]! < 0x80) return this.buf[this.pos++]!;
    const value = this.varint53();
    if (value === undefined || value > 0xffffffff) throw UNUSUAL;
    return value;
  }

  /** A varint as a Number when it is below 2^53, `undefined` for a longer one (the caller decides); truncated or over ten bytes: unusual. */
  varint53(): number | undefined {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      if (pos >= end || shift === 70) throw UNUSUAL;
      b = buf[pos++]!;
      // Integer arithmetic for the first 28 bits, floating point above (exact below 2^53).
      if (shift < 28) result |= (b & 0x7f) << shift;
      else result += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b >= 0x80);
    this.pos = pos;
    return result <= Number.MAX_SAFE_INTEGER ? result : undefined;
  }

  length(): number {
    const length = this.varint32();
    if (length > this.end - this.pos) throw UNUSUAL;
    return length;
  }

  string(): string {
    const length = this.length();
    const start = this.pos;
    const end = start + length;
    this.pos = end;
    const buf = this.buf;
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (buf[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return buf.toString("latin1", start, end);
    // protobuf-es's own strict decoder (proto3 strings are validated): the same text, or the same refusal on the reflective path.
    try {
      return utf8.decodeUtf8(buf.subarray(start, end), true);
    } catch {
      throw UNUSUAL;
    }
  }

  double(): number {
    if (this.end - this.pos < 8) throw UNUSUAL;
    const value = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return value;
  }

  /** protobuf-es reads a bool as a 64-bit varint: anything but zero is true. */
  bool(): boolean {
    let nonZero = false;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw UNUSUAL;
      const b = this.buf[this.pos++]!;
      // Bits beyond the 64th: what protobuf-es makes of them is its own business.
      if (i === 9 && b > 1) throw UNUSUAL;
      if ((b & 0x7f) !== 0) nonZero = true;
      if (b < 0x80) return nonZero;
    }
    throw UNUSUAL;
  }

  /**
   * A google.protobuf.Timestamp as a Date, when a millisecond holds it
   * exactly. Seconds before 1970 are ten-byte two's complement varints; nanos
   * finer than a millisecond (refused by decodeRecord, naming the field),
   * nanos outside 0 … 2^31 − 1, unknown fields, and seconds beyond ±2^53 are
   * left to the reflective path.
   */
  timestamp(): Date {
    const length = this.length();
    const end = this.pos + length;
    let seconds = 0;
    let nanos = 0;
    while (this.pos < end) {
      const tag = this.varint32();
      if (tag === 0x08) seconds = this.int64();
      else if (tag === 0x10) {
        nanos = this.varint32();
        if (nanos > 0x7fffffff || nanos % 1_000_000 !== 0) throw UNUSUAL;
      } else throw UNUSUAL;
    }
    if (this.pos !== end) throw UNUSUAL;
    return new Date(seconds * 1000 + nanos / 1_000_000);
  }

  private int64(): number {
    const start = this.pos;
    const value = this.varint53();
    if (value !== undefined) return value;
    // A negative int64: ten bytes, two's complement.
    this.pos = start;
    let v = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw UNUSUAL;
      const b = this.buf[this.pos++]!;
      if (i === 9 && b > 1) throw UNUSUAL;
      v |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) {
        const signed = Number(BigInt.asIntN(64, v));
        if (!Number.isSafeInteger(signed)) throw UNUSUAL;
        return signed;
      }
    }
    throw UNUSUAL;
  }
}
