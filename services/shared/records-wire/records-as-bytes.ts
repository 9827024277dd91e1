/**
 * StreamRecords responses and WriteRecords requests written with each record
 * already encoded: the sending half of records-read.ts. Records whose bytes
 * are ready (record-bytes.ts `encodedRecord`, the records service's
 * stored-document-bytes.ts) still cost protobuf-es a reflective walk each when
 * the batch is serialized as messages: measured at ~2.3 µs a session record
 * in a 250-record StreamRecords response, against ~0.3 µs when the same bytes
 * are written as a list of `bytes` (the same wire bytes, compared in
 * test/shared/record-bytes.test.ts).
 *
 * Connect serializes a message with its method's descriptor, so these are the
 * methods with descriptors of the same messages in which `records` is
 * `repeated bytes`: a length-delimited field either way, so a reader cannot
 * tell them apart. For binary callers only: in JSON a `bytes` field is base64.
 */
import { create, type DescMethodStreaming, type Message } from "@bufbuild/protobuf";
import { FieldDescriptorProto_Type } from "@bufbuild/protobuf/wkt";
import { RecordsService, StreamRecordsResponseSchema, WriteRecordsRequestSchema, type StreamRecordsResponse, type WriteRecordsRequest } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { recordsFileVariant } from "./records-file-variant.js";

/** The records file as it is, except that the batches' `records` are bytes. */
const bytesMessage = recordsFileVariant((proto) => {
  for (const name of [StreamRecordsResponseSchema.name, WriteRecordsRequestSchema.name]) {
    const records = proto.messageType.find((m) => m.name === name)!.field.find((f) => f.name === "records")!;
    records.type = FieldDescriptorProto_Type.BYTES;
    records.typeName = "";
  }
});

/** A StreamRecords response whose records are each an `EntityRecord`'s bytes. */
export type EncodedStreamRecordsResponse = Omit<StreamRecordsResponse, "records" | "$typeName"> & Message<typeof StreamRecordsResponseSchema.typeName> & { records: Uint8Array[] };
/** A WriteRecords request whose records are each an `EntityRecord`'s bytes. */
export type EncodedWriteRecordsRequest = Omit<WriteRecordsRequest, "records" | "$typeName"> & Message<typeof WriteRecordsRequestSchema.typeName> & { records: Uint8Array[] };

/** StreamRecords answering with each response's records as bytes; otherwise the method itself. */
export const STREAM_RECORDS_ENCODED = { ...RecordsService.method.streamRecords, output: bytesMessage(StreamRecordsResponseSchema.name) } as DescMethodStreaming;
/** WriteRecords sending each request's records as bytes; otherwise the method itself. */
export const WRITE_RECORDS_ENCODED = { ...RecordsService.method.writeRecords, input: bytesMessage(WriteRecordsRequestSchema.name) } as DescMethodStreaming;

/** A StreamRecords response of records already encoded. */
export function encodedStreamRecordsResponse(records: Uint8Array[]): EncodedStreamRecordsResponse {
  return create(STREAM_RECORDS_ENCODED.output, { records }) as unknown as EncodedStreamRecordsResponse;
}

/** A WriteRecords request of records already encoded; fields left out take their defaults, as `create` gives them. */
export function encodedWriteRecordsRequest(init: Partial<Omit<EncodedWriteRecordsRequest, "$typeName">>): EncodedWriteRecordsRequest {
  return create(WRITE_RECORDS_ENCODED.input, init) as unknown as EncodedWriteRecordsRequest;
}
