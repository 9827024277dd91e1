/**
 * Stored documents transcoded to wire records (records/rpc/stored-document-bytes.ts)
 * are a shortcut, not a second reading of the store: for any document, the
 * bytes are those of the path it replaces — the driver decoding the BSON,
 * `documentToRecord`, personal fields taken out, the reflective codec's
 * message (`encodeRecord`, which record-bytes.ts matches byte for byte) — and a
 * document that path refuses is refused with its error. Documents here are
 * real BSON, made by the driver's own serializer or, for what it will not
 * write (repeated keys, broken strings, dates out of range), byte by byte.
 */
import { toBinary } from "@bufbuild/protobuf";
import { BSON, ObjectId } from "mongodb";
import { describe, expect, it } from "vitest";
import { EntityRecordSchema, StreamRecordsResponseSchema, type EntityRecord } from "../../gen/dataexchange/records/v1/records_pb.js";
import { ENTITIES, type EntityName } from "../../services/domain/index.js";
import { personalFields } from "../../services/records/access-policy.js";
import { storedDocumentsToWire } from "../../services/records/rpc/stored-document-bytes.js";
import { documentToRecord } from "../../services/records/store/documents.js";
import { encodedRecord } from "../../services/shared/records-wire/record-bytes.js";
import { encodeRecord } from "../../services/shared/records-wire/record-codec.js";
import { RECORDS } from "../shared/wire-record-fixtures.js";
import { encodedStreamRecordsResponse, STREAM_RECORDS_ENCODED } from "../../services/shared/records-wire/records-as-bytes.js";

const at = (iso: string) => new Date(iso);
const NONE: ReadonlySet<string> = new Set();

/** The path the transcoder replaces: decode, turn into a record, hide, encode (the reflective codec, the reference). */
function decodedPath(entity: EntityName, document: Uint8Array, omit: ReadonlySet<string>): EntityRecord {
  const spec = ENTITIES[entity];
  const record = documentToRecord(spec, BSON.deserialize(document));
  for (const key of omit) delete record[key];
  return encodeRecord(spec, record, "response");
}

/**
 * Either both ways give the same bytes — each record's, and the whole
 * response's as the service sends it (records as bytes for the transcoded
 * ones, messages for the decoded) — or both refuse with the same error
 * (decoding, or writing a message the codec made).
 */
function expectSameAsDecoding(entity: EntityName, documents: Uint8Array[], omit: ReadonlySet<string> = NONE): void {
  const outcome = (records: () => Uint8Array[], response: (records: Uint8Array[]) => Uint8Array) => {
    try {
      const batch = records();
      return { bytes: batch.map((r) => Buffer.from(r)), response: Buffer.from(response(batch)) };
    } catch (error) {
      return { error: String(error) };
    }
  };
  const decoded = () => documents.map((d) => decodedPath(entity, d, omit));
  const expected = outcome(
    () => decoded().map((r) => toBinary(EntityRecordSchema, r)),
    () => toBinary(StreamRecordsResponseSchema, { $typeName: StreamRecordsResponseSchema.typeName, records: decoded() }),
  );
  const actual = outcome(
    () => storedDocumentsToWire(ENTITIES[entity], documents, omit),
    (records) => toBinary(STREAM_RECORDS_ENCODED.output, encodedStreamRecordsResponse(records) as never),
  );
  expect(actual).toEqual(expected);
}

/** A record as the store keeps it: under `_id` (an ObjectId for the activity log, whose `id` it is), a user with a password hash. */
function storedShape(entity: EntityName, record: Record<string, unknown>): Record<string, unknown> {
  if (entity === "activity") {
    const { id, ...fields } = record;
    return typeof id === "string" && ObjectId.isValid(id) ? { _id: new ObjectId(id), ...fields } : { _id: new ObjectId(), id, ...fields };
  }
  const key = ENTITIES[entity].keyFields.map((k) => String(record[k] ?? "")).join("|");
  return { _id: key, ...record, ...(entity === "users" ? { passwordHash: "scrypt$…" } : {}) };
}

/** Stored documents of every entity (the wire fixtures as the store writes them), and documents no write would store. */
const DOCUMENTS: [EntityName, Record<string, unknown>][] = [
  ...RECORDS.map(([entity, record]): [EntityName, Record<string, unknown>] => [entity, storedShape(entity, record)]),
  ["courses", { code: "C2", visible: true, unknownKey: { deep: [1, "two", null] } }],
  // Fields in another order than the message declares them.
  ["sessions", { _id: "s1", updatedAt: at("2024-03-02T00:00:00Z"), score: -0.5, sessionId: "s1", userId: "u1", courseId: "C1", status: "completed" }],
  ["sessions", { sessionId: "s3", activityIds: [], endedAt: null, score: 42 }],
  ["sessions", { sessionId: "s4", score: new BSON.Int32(7), startedAt: "2024-01-01", endedAt: 12, status: 7 }],
  ["sessions", { sessionId: "s5", score: new BSON.Double(Number.NaN), updatedAt: new BSON.Double(Number.POSITIVE_INFINITY) }],
  ["sessions", { sessionId: "s6", score: BSON.Long.fromNumber(3) }],
  ["sessions", { sessionId: "s7", score: BSON.Decimal128.fromString("1.5") }],
  ["sessions", { sessionId: "s9", activities: null, activityIds: ["a", 1] }],
  // Names near a field's: the same length, a prefix, other scripts; none of them is the field.
  ["sessions", { sessionId: "s10", sessionID: "x", sessionIdé: "y", userI: "z", ü: 1, courseid: "C9", _i: "no", _idx: "no" }],
  ["activity", { _id: new ObjectId("0123456789abcdef01234567"), id: "stored id loses to _id", userId: "u1" }],
  ["activity", { _id: "not an ObjectId", id: "stored id", userId: "u1" }],
  ["activity", { _id: new ObjectId(), userId: "u1", details: null }],
  ["users", { email: "ada@example.org", createdAt: new BSON.Timestamp({ t: 1, i: 2 }), updatedAt: new ObjectId(), firstName: null, lastName: undefined }],
  ["users", { email: "bytes", firstName: new BSON.Binary(Buffer.from([1, 2, 3])), password: "never stored, never sent" }],
];

describe("a stored document transcoded to a wire record", () => {
  it.each(DOCUMENTS.map(([entity, document], i) => [i, entity, document] as const))("is the decoding path's bytes, byte for byte (document %i, %s)", (_i, entity, document) => {
    expectSameAsDecoding(entity, [BSON.serialize(document, { ignoreUndefined: false })]);
  });

  it("leaves out the personal fields a caller may not see, as the decoding path does", () => {
    for (const [entity, document] of DOCUMENTS) {
      const omit = personalFields(ENTITIES[entity]);
      expectSameAsDecoding(entity, [BSON.serialize(document)], omit);
    }
    expect(personalFields(ENTITIES.users).size).toBeGreaterThan(0);
  });

  it("writes a whole batch of mixed documents, transcoded and decoded, in their order", () => {
    const sessions = DOCUMENTS.filter(([e]) => e === "sessions").map(([, d]) => BSON.serialize(d));
    expectSameAsDecoding("sessions", [...sessions, ...sessions.reverse()]);
    expect(storedDocumentsToWire(ENTITIES.sessions, [], NONE)).toEqual([]);
  });

  it("writes the last value of a key a document repeats, as a decoded object keeps it", () => {
    const document = bsonDocument([string("sessionId", "s1"), string("userId", "first"), double("score", 1), string("userId", "last")]);
    expectSameAsDecoding("sessions", [document]);
    const twice = bsonDocument([objectId("_id", "0123456789abcdef01234567"), string("_id", "then text"), string("id", "stored")]);
    expectSameAsDecoding("activity", [twice]);
  });

  it("sends a date out of JavaScript's range the way the decoding path does", () => {
    for (const ms of [8.64e15, -8.64e15, 8.64e15 + 1, -8.64e15 - 1, 2 ** 62, -(2 ** 62)]) {
      expectSameAsDecoding("sessions", [bsonDocument([string("sessionId", "s1"), date("startedAt", BigInt(ms))])]);
    }
  });

  it("refuses a sent string that is not UTF-8 with the driver's error, and a broken boolean or length likewise", () => {
    const notUtf8 = bsonDocument([string("sessionId", "s1"), rawString("userId", Buffer.from([0x61, 0xff, 0x62]))]);
    expect(() => BSON.deserialize(notUtf8)).toThrow();
    expectSameAsDecoding("sessions", [notUtf8]);
    const listNotUtf8 = bsonDocument([string("sessionId", "s1"), array("activityIds", [rawString("0", Buffer.from([0xc3]))])]);
    expectSameAsDecoding("sessions", [listNotUtf8]);
    const badBoolean = bsonDocument([string("code", "C1"), [0x08, ...cstring("visible"), 2]]);
    expectSameAsDecoding("courses", [badBoolean]);
    const cut = BSON.serialize({ sessionId: "s1", userId: "u1" }).subarray(0, 20);
    expectSameAsDecoding("sessions", [cut]);
    const badLength = Buffer.from(BSON.serialize({ sessionId: "s1", userId: "u1" }));
    badLength.writeInt32LE(1000, 4 + 1 + "sessionId".length + 1);
    expectSameAsDecoding("sessions", [badLength]);
  });

  it("does not read a value it never sends, so bytes that are not UTF-8 there no longer stop the export", () => {
    for (const hidden of ["passwordHash", "notAField"]) {
      const document = bsonDocument([string("email", "ada@example.org"), rawString(hidden, Buffer.from([0xff]))]);
      expect(() => decodedPath("users", document, NONE)).toThrow();
      const [record] = storedDocumentsToWire(ENTITIES.users, [document], NONE);
      expect(Buffer.from(record!)).toEqual(Buffer.from(encodedRecord(ENTITIES.users, { email: "ada@example.org" }, "response")));
    }
  });

  it("gives the same bytes as the decoding path for random documents of every entity", () => {
    const random = seeded(17);
    for (let round = 0; round < 400; round++) {
      const entity = (Object.keys(ENTITIES) as EntityName[])[round % 5]!;
      // Mostly values of each field's own type (the transcoder's path), sometimes anything at all (the decoding path's).
      const document: Record<string, unknown> = {};
      for (const field of ENTITIES[entity].fields) {
        if (random() < 0.2) continue;
        document[field.key] = random() < 0.9 ? valueOfType(field.type, random) : randomValue(random);
      }
      for (const key of ["_id", "passwordHash", "extra"]) if (random() < 0.7) document[key] = randomValue(random);
      const omit = random() < 0.5 ? NONE : personalFields(ENTITIES[entity]);
      expectSameAsDecoding(entity, [BSON.serialize(document)], omit);
    }
  });
});

function valueOfType(type: string, random: () => number): unknown {
  switch (type) {
    case "number":
      return random() < 0.5 ? Math.floor(random() * 100) : random() * 100;
    case "timestamp":
      return new Date(Math.floor(random() * 6e12) - 3e12);
    case "boolean":
      return random() < 0.5;
    case "string_list":
      return ["a", "ß", "", "😀"].slice(0, Math.floor(random() * 5));
    case "object":
    case "object_list":
      return null;
    default:
      return random() < 0.2 ? "" : `text ${String.fromCodePoint(Math.floor(random() * 0xd7ff))}${String.fromCodePoint(0xe000 + Math.floor(random() * 0x1f000))}`;
  }
}

function randomValue(random: () => number): unknown {
  const pick = Math.floor(random() * 12);
  switch (pick) {
    case 0:
      return `text ${String.fromCodePoint(Math.floor(random() * 0x2ffff))}`;
    case 1:
      return random() * 200 - 100;
    case 2:
      return Math.floor(random() * 1000);
    case 3:
      return random() < 0.5;
    case 4:
      return new Date(Math.floor(random() * 4e12) - 1e12);
    case 5:
      return null;
    case 6:
      return ["a", "ß", ""].slice(0, Math.floor(random() * 4));
    case 7:
      return new ObjectId();
    case 8:
      return { nested: "x", n: 1 };
    case 9:
      return [1, "x"];
    case 10:
      return "";
    default:
      return BSON.Long.fromNumber(Math.floor(random() * 1e15));
  }
}

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

// A small BSON writer for what the driver's serializer will not write (bsonspec.org: element = type, cstring name, value).
type Element = number[];
const cstring = (name: string) => [...Buffer.from(name, "utf8"), 0];
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return [...b];
};
const rawString = (name: string, bytes: Buffer): Element => [0x02, ...cstring(name), ...int32(bytes.length + 1), ...bytes, 0];
const string = (name: string, value: string): Element => rawString(name, Buffer.from(value, "utf8"));
const double = (name: string, value: number): Element => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(value);
  return [0x01, ...cstring(name), ...b];
};
const date = (name: string, ms: bigint): Element => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(ms);
  return [0x09, ...cstring(name), ...b];
};
const objectId = (name: string, hex: string): Element => [0x07, ...cstring(name), ...Buffer.from(hex, "hex")];
const array = (name: string, elements: Element[]): Element => {
  const body = elements.flat();
  return [0x04, ...cstring(name), ...int32(4 + body.length + 1), ...body, 0];
};
function bsonDocument(elements: Element[]): Buffer {
  const body = elements.flat();
  return Buffer.from([...int32(4 + body.length + 1), ...body, 0]);
}
