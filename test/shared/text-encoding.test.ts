/**
 * A value that starts with U+FEFF keeps it between the services: Protobuf-ES
 * would otherwise drop it as a byte order mark (services/shared/rpc/text-encoding.ts).
 */
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { EntityRecordSchema } from "../../gen/dataexchange/records/v1/records_pb.js";
import { ENTITIES } from "../../services/domain/index.js";
import { encodedRecord } from "../../services/shared/records-wire/record-bytes.js";
import { plainRecordFromBytes } from "../../services/shared/records-wire/record-from-bytes.js";
import { decodeRecord, encodeRecord } from "../../services/shared/records-wire/record-codec.js";

const course = { code: "QA-B1", title: "\ufeff\ufeffTwo marks first", description: "\ufeffstart", category: "mid\ufeffdle\ufeff" };

describe("a string that starts with U+FEFF", () => {
  it("keeps it when read from the records wire's bytes", () => {
    const bytes = encodedRecord(ENTITIES.courses, course, "write");
    // The course's own message: after the record's case tag and length.
    const reader = new BinaryReader(bytes);
    reader.tag();
    const length = reader.uint32();
    expect(plainRecordFromBytes(ENTITIES.courses, bytes, reader.pos, reader.pos + length)).toMatchObject(course);
  });

  it("keeps it when a message is decoded by Protobuf-ES itself", () => {
    const bytes = toBinary(EntityRecordSchema, encodeRecord(ENTITIES.courses, course, "write"));
    const decoded = decodeRecord(ENTITIES.courses, fromBinary(EntityRecordSchema, bytes));
    expect(decoded.ok && decoded.record).toMatchObject(course);
  });
});
