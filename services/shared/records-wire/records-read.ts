/**
 * StreamRecords responses and WriteRecords requests read off a binary wire
 * without protobuf-es building every record by reflection: the receiving
 * half of record-bytes.ts, for the transfer service's records client (an
 * export's StreamRecords) and the records service's binary callers (an
 * import's WriteRecords).
 *
 * Connect parses a message with the descriptor of its method, and offers no
 * other hook. So these methods are read with the descriptors of the same
 * messages in which `records` is `repeated bytes` (records-as-bytes.ts, the
 * same wire): protobuf-es reads the batch's own fields as ever and leaves each
 * record as its bytes, which {@link readRecords} then reads straight to plain
 * records (record-from-bytes.ts), each standing as a {@link PlainEntityRecord}
 * where the record's message would. (Until 3 December 2026 they were read with
 * an `EntityRecord` that declares no fields, so that protobuf-es kept each
 * record's case as an unknown field: a message, its reflection's two maps and
 * the unknown field's list and entry for every record, 10 % of what the
 * records service allocated an imported row.) A record the fast reader does not handle is
 * parsed by protobuf-es from its bytes, so it arrives as the message it
 * always was — or is refused with the error Connect raised for it before
 * (`parse binary: …`, INTERNAL), at the same point of the stream.
 *
 * One difference, for malformed input only: a batch whose own framing is
 * broken (a record's length disagreeing with its fields) is refused by the
 * unread parse, INTERNAL `parse binary: …` as before but possibly with
 * another reason; protobuf-es alone either refused it too or, now and then,
 * read it by letting a record's last field run on past the record's length
 * into the bytes after it, which protobuf's parsers in other languages refuse.
 */
import { fromBinary, toBinary, type DescMessage, type DescMethodStreaming } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  EntityRecordSchema,
  RecordsService,
  StreamRecordsResponseSchema,
  WriteRecordsRequestSchema,
  type EntityRecord,
  type StreamRecordsResponse,
  type WriteRecordsRequest,
} from "../../../gen/dataexchange/records/v1/records_pb.js";
import type { EntityName } from "../../domain/index.js";
import { ENTITIES } from "../../domain/index.js";
import { PlainEntityRecord, RECORD_CASE } from "./record-codec.js";
import { asBuffer, plainRecordFromBytes, singleCaseOf } from "./record-from-bytes.js";
import { STREAM_RECORDS_ENCODED, WRITE_RECORDS_ENCODED } from "./records-as-bytes.js";

/** StreamRecords with each response's records left as bytes; otherwise the method itself. */
export const STREAM_RECORDS_UNREAD = { ...RecordsService.method.streamRecords, output: STREAM_RECORDS_ENCODED.output } as DescMethodStreaming;
/** WriteRecords with each request's records left as bytes; otherwise the method itself. */
export const WRITE_RECORDS_UNREAD = { ...RecordsService.method.writeRecords, input: WRITE_RECORDS_ENCODED.input } as DescMethodStreaming;

const CASE_BY_NUMBER = new Map(EntityRecordSchema.fields.map((f) => [f.number, f.localName]));
const ENTITY_BY_CASE = new Map((Object.keys(RECORD_CASE) as EntityName[]).map((name) => [RECORD_CASE[name], ENTITIES[name]]));

const SCHEMAS: Record<string, { schema: DescMessage; unread: DescMessage }> = {
  [StreamRecordsResponseSchema.typeName]: { schema: StreamRecordsResponseSchema, unread: STREAM_RECORDS_UNREAD.output },
  [WriteRecordsRequestSchema.typeName]: { schema: WriteRecordsRequestSchema, unread: WRITE_RECORDS_UNREAD.input },
};

/**
 * The message's records read: a {@link PlainEntityRecord} for each record
 * of the common shapes, the message protobuf-es makes of its bytes for any
 * other. Should protobuf-es refuse a record's bytes on their own, the whole
 * message is parsed by protobuf-es, as Connect parsed it before: a malformed
 * record's fields may run on into the bytes after it, so only the whole
 * message says what the reflective path made of it — the same records, or the
 * same error (`parse binary: …`, INTERNAL, as Connect words it). The message
 * is rebuilt from what was read, which is its bytes as a sender writes them
 * (fields in order; an unknown field of the batch itself would move to its
 * end).
 */
export function readRecords<M extends StreamRecordsResponse | WriteRecordsRequest>(message: M): M {
  const unreadRecords = message.records as unknown as Uint8Array[];
  const records: EntityRecord[] = new Array(unreadRecords.length);
  for (let i = 0; i < unreadRecords.length; i++) {
    const record = readRecord(unreadRecords[i]!);
    if (record === undefined) return reflectiveMessage(message);
    records[i] = record;
  }
  message.records = records;
  return message;
}

/** The record read fast, or parsed by protobuf-es from its own bytes; `undefined` if protobuf-es refuses them. */
function readRecord(bytes: Uint8Array): EntityRecord | undefined {
  const buf = asBuffer(bytes);
  const head = singleCaseOf(buf);
  const recordCase = head && (CASE_BY_NUMBER.get(head.caseNumber) as (typeof RECORD_CASE)[EntityName] | undefined);
  const spec = recordCase && ENTITY_BY_CASE.get(recordCase);
  if (spec) {
    const record = plainRecordFromBytes(spec, buf, head!.start, buf.length);
    if (record) return new PlainEntityRecord(recordCase!, record);
  }
  try {
    return fromBinary(EntityRecordSchema, bytes);
  } catch {
    return undefined;
  }
}

function reflectiveMessage<M extends StreamRecordsResponse | WriteRecordsRequest>(message: M): M {
  const { schema, unread } = SCHEMAS[message.$typeName]!;
  try {
    return fromBinary(schema, toBinary(unread, message as never)) as M;
  } catch (error) {
    // As Connect's own binary parser words it (connect's protocol/serialization.ts).
    throw new ConnectError(`parse binary: ${error instanceof Error ? error.message : String(error)}`, Code.Internal);
  }
}
