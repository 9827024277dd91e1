/**
 * Pre-encoded records (records-wire/record-bytes.ts) are a shortcut, not a
 * second codec: whatever record goes in, the bytes on the wire are those of
 * the reflective codec's message, byte for byte, for a response and for a
 * write; a record the shortcut does not handle goes the reflective way, and a
 * value a write must refuse is refused with the codec's own error.
 */
import { toBinary, fromBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { EntityRecordSchema, StreamRecordsResponseSchema, WriteRecordsRequestSchema, Entity } from "../../gen/dataexchange/records/v1/records_pb.js";
import { ENTITIES, type EntityName } from "../../services/domain/index.js";
import { decodeRecord, encodeRecord, UnencodableValueError, type RecordEncoding } from "../../services/shared/records-wire/record-codec.js";
import { encodedRecord, preEncodedRecord } from "../../services/shared/records-wire/record-bytes.js";
import { encodedStreamRecordsResponse, STREAM_RECORDS_ENCODED, WRITE_RECORDS_ENCODED } from "../../services/shared/records-wire/records-as-bytes.js";
import { servesBinary } from "../../services/shared/rpc/serves-binary.js";

const at = (iso: string) => new Date(iso);

/** Records of every entity, in the shapes the services meet: full, sparse, empty text, old and odd dates, lists. */
const RECORDS: [EntityName, Record<string, unknown>][] = [
  [
    "users",
    {
      email: "ada@example.org",
      username: "ada",
      firstName: "Ada",
      lastName: "Lovelace — ∑ 😀",
      role: "student",
      status: "active",
      createdAt: at("2024-01-01T00:00:00Z"),
      updatedAt: at("2024-02-01T12:34:56.789Z"),
      password: "correct horse battery",
    },
  ],
  ["users", { email: "", username: "" }],
  [
    "courses",
    {
      code: "C1",
      title: "Intro",
      description: "",
      category: "x",
      startDate: at("1969-07-20T20:17:40.001Z"),
      endDate: at("1970-01-01T00:00:00Z"),
      visible: false,
      updatedAt: at("2100-01-01T00:00:00.999Z"),
    },
  ],
  ["courses", { code: "C2", visible: true }],
  [
    "sessions",
    {
      sessionId: "s1",
      userId: "u1",
      courseId: "C1",
      startedAt: at("2024-03-01T10:00:00.5Z"),
      endedAt: at("1900-01-01T00:00:00.001Z"),
      status: "completed",
      score: -0.5,
      updatedAt: at("2024-03-02T00:00:00Z"),
    },
  ],
  ["sessions", { sessionId: "s2", score: 0, userName: "Ada", userEmail: "ada@example.org", courseTitle: "Intro", activityIds: ["a1", "a2"] }],
  ["sessions", { sessionId: "s3", activityIds: [] }],
  ["enrollments", { userId: "u1", courseId: "C1", role: "student", status: "active", enrolledAt: at("2024-01-01T00:00:00Z"), updatedAt: at("2024-01-02T00:00:00Z") }],
  ["activity", { id: "0123456789abcdef01234567", userId: "u1", sessionId: "s1", courseId: "C1", action: "view", at: at("2024-01-01T00:00:00Z"), recordedAt: at("2024-01-01T00:00:01Z") }],
  // Handled by the reflective codec: a free-form object, joined entries, stored values of unexpected types.
  ["activity", { id: "x", userId: "u1", details: { device: "phone", clicks: 3, nested: { a: [1, "b"] } } }],
  ["sessions", { sessionId: "s4", activities: [{ userId: "u1", action: "view", at: at("2024-01-01T00:00:00Z") }] }],
  ["sessions", { sessionId: "s5", score: Number.NaN, startedAt: "2024-01-01", status: 7 }],
  ["users", { email: "ada@example.org", createdAt: new Date("not a date") }],
];

const bytesOf = (message: ReturnType<typeof encodeRecord>) => Buffer.from(toBinary(EntityRecordSchema, message));

describe("a pre-encoded record", () => {
  for (const encoding of ["response", "write"] as RecordEncoding[]) {
    it.each(RECORDS.map(([entity, record], i) => [i, entity, record] as const))(`is the reflective codec's bytes for a ${encoding}, byte for byte (record %i, %s)`, (_i, entity, record) => {
      const spec = ENTITIES[entity];
      let expected: Buffer | undefined;
      try {
        expected = bytesOf(encodeRecord(spec, record, encoding));
      } catch (error) {
        // What the codec refuses (a write's unencodable value, an invalid date) is refused the same way.
        const same = error instanceof UnencodableValueError ? { field: error.field, message: error.message } : { message: (error as Error).message };
        expect(() => preEncodedRecord(spec, record, encoding)).toThrow(expect.objectContaining({ name: (error as Error).name, ...same }));
        return;
      }
      expect(bytesOf(preEncodedRecord(spec, record, encoding))).toEqual(expected);
    });
  }

  for (const encoding of ["response", "write"] as RecordEncoding[]) {
    it.each(RECORDS.map(([entity, record], i) => [i, entity, record] as const))(`is, as bytes of its own, the reflective codec's bytes for a ${encoding} (record %i, %s)`, (_i, entity, record) => {
      const spec = ENTITIES[entity];
      let expected: Buffer;
      try {
        expected = bytesOf(encodeRecord(spec, record, encoding));
      } catch (error) {
        expect(() => encodedRecord(spec, record, encoding)).toThrow((error as Error).message);
        return;
      }
      expect(Buffer.from(encodedRecord(spec, record, encoding))).toEqual(expected);
    });
  }

  it("as bytes in a batch, is written as the batch of messages would be, and read back by any reader as that batch", () => {
    const response = RECORDS.filter(([entity]) => entity === "sessions").map(([, record]) => record);
    const messages = { $typeName: StreamRecordsResponseSchema.typeName, records: response.map((r) => encodeRecord(ENTITIES.sessions, r, "response")) } as const;
    const asBytes = toBinary(STREAM_RECORDS_ENCODED.output, encodedStreamRecordsResponse(response.map((r) => encodedRecord(ENTITIES.sessions, r, "response"))) as never);
    expect(Buffer.from(asBytes)).toEqual(Buffer.from(toBinary(StreamRecordsResponseSchema, messages)));
    const [entity, record] = RECORDS[0]!;
    const request = { entity: Entity.USERS, mode: 1, dryRun: true, ordered: true, batchId: "b7" };
    const written = toBinary(WRITE_RECORDS_ENCODED.input, { $typeName: WriteRecordsRequestSchema.typeName, ...request, records: [encodedRecord(ENTITIES[entity], record, "write")] } as never);
    const read = fromBinary(WriteRecordsRequestSchema, written);
    expect(read).toMatchObject(request);
    const { updatedAt: _readOnly, ...fields } = record;
    expect(decodeRecord(ENTITIES.users, read.records[0]!)).toEqual({ ok: true, record: fields });
  });

  it("reads back, in a batch on the wire, as the record it was", () => {
    const [entity, record] = RECORDS[4]!;
    const batch = toBinary(StreamRecordsResponseSchema, {
      $typeName: StreamRecordsResponseSchema.typeName,
      records: [preEncodedRecord(ENTITIES[entity], record, "response"), preEncodedRecord(ENTITIES[entity], record, "response")],
    });
    const read = fromBinary(StreamRecordsResponseSchema, batch);
    expect(read.records.map((r) => decodeRecord(ENTITIES[entity], r))).toEqual([
      { ok: true, record },
      { ok: true, record },
    ]);
  });

  it("reads back in a write request as the records service decodes it", () => {
    const [entity, record] = RECORDS[0]!;
    const request = toBinary(WriteRecordsRequestSchema, {
      $typeName: WriteRecordsRequestSchema.typeName,
      entity: Entity.USERS,
      mode: 1,
      dryRun: false,
      ordered: false,
      batchId: "1",
      records: [preEncodedRecord(ENTITIES[entity], record, "write")],
    });
    const { updatedAt: _readOnly, ...written } = record;
    expect(decodeRecord(ENTITIES.users, fromBinary(WriteRecordsRequestSchema, request).records[0])).toEqual({ ok: true, record: written });
  });
});

describe("whether a call is answered in binary", () => {
  it.each([
    ["application/grpc", true],
    ["application/grpc+proto", true],
    ["application/grpc-web+proto", true],
    ["application/connect+proto", true],
    ["application/proto", true],
    ["application/grpc+json", false],
    ["application/connect+json", false],
    ["application/json; charset=utf-8", false],
  ] as const)("%s: %s", (type, binary) => {
    expect(servesBinary({ requestHeader: new Headers({ "content-type": type }) })).toBe(binary);
  });

  it("is not assumed for a handler called directly, without a content type", () => {
    expect(servesBinary({ requestHeader: new Headers() })).toBe(false);
    expect(servesBinary(undefined)).toBe(false);
  });
});
