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
import { ENTITIES } from "../../services/domain/index.js";
import { decodeRecord, encodeRecord, UnencodableValueError, type RecordEncoding } from "../../services/shared/records-wire/record-codec.js";
import { encodedRecord } from "../../services/shared/records-wire/record-bytes.js";
import { encodedStreamRecordsResponse, STREAM_RECORDS_ENCODED, WRITE_RECORDS_ENCODED } from "../../services/shared/records-wire/records-as-bytes.js";
import { servesBinary } from "../../services/shared/rpc/serves-binary.js";
import { RECORDS } from "./wire-record-fixtures.js";

const bytesOf = (message: ReturnType<typeof encodeRecord>) => Buffer.from(toBinary(EntityRecordSchema, message));

describe("a record encoded to bytes", () => {
  for (const encoding of ["response", "write"] as RecordEncoding[]) {
    it.each(RECORDS.map(([entity, record], i) => [i, entity, record] as const))(`is the reflective codec's bytes for a ${encoding}, byte for byte (record %i, %s)`, (_i, entity, record) => {
      const spec = ENTITIES[entity];
      let expected: Buffer | undefined;
      try {
        expected = bytesOf(encodeRecord(spec, record, encoding));
      } catch (error) {
        // What the codec refuses (a write's unencodable value, an invalid date) is refused the same way.
        const same = error instanceof UnencodableValueError ? { field: error.field, message: error.message } : { message: (error as Error).message };
        expect(() => encodedRecord(spec, record, encoding)).toThrow(expect.objectContaining({ name: (error as Error).name, ...same }));
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
    const bytes = encodedRecord(ENTITIES[entity], record, "response");
    const batch = toBinary(STREAM_RECORDS_ENCODED.output, encodedStreamRecordsResponse([bytes, bytes]) as never);
    const read = fromBinary(StreamRecordsResponseSchema, batch);
    expect(read.records.map((r) => decodeRecord(ENTITIES[entity], r))).toEqual([
      { ok: true, record },
      { ok: true, record },
    ]);
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
