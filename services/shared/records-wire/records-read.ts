/**
 * StreamRecords responses and WriteRecords requests read off a binary wire
 * without protobuf-es building every record by reflection: the receiving
 * half of record-bytes.ts, for the transfer service's records client (an
 * export's StreamRecords) and the records service's binary callers (an
 * import's WriteRecords).
 *
 * Connect parses a message with the descriptor of its method, and offers no
 * other hook. So these methods are read with descriptors of the same messages
 * in which `EntityRecord` declares no fields: protobuf-es reads the batch's
 * own fields as ever and keeps each record's case as unknown bytes, which
 * {@link readRecords} then reads straight to plain records
 * (record-from-bytes.ts), each standing as a {@link PlainEntityRecord} where
 * the record's message would. A record the fast reader does not handle is
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
import { WireType } from "@bufbuild/protobuf/wire";
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
import { plainRecordFromBytes } from "./record-from-bytes.js";
import { recordsFileVariant } from "./records-file-variant.js";

/** The records file as it is, except that EntityRecord declares no fields (its oneof goes with them). */
const unreadMessage = recordsFileVariant((proto) => {
  const entityRecord = proto.messageType.find((m) => m.name === EntityRecordSchema.name)!;
  entityRecord.field = [];
  entityRecord.oneofDecl = [];
});

/** StreamRecords with each response's records left as bytes; otherwise the method itself. */
export const STREAM_RECORDS_UNREAD = { ...RecordsService.method.streamRecords, output: unreadMessage("StreamRecordsResponse") } as DescMethodStreaming;
/** WriteRecords with each request's records left as bytes; otherwise the method itself. */
export const WRITE_RECORDS_UNREAD = { ...RecordsService.method.writeRecords, input: unreadMessage("WriteRecordsRequest") } as DescMethodStreaming;

/** A record as the unread descriptors leave it: its case, still encoded, among the unknown fields. */
interface UnreadRecord {
  $unknown?: { no: number; wireType: WireType; data: Uint8Array }[];
}

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
  const unreadRecords = message.records as unknown as UnreadRecord[];
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
function readRecord(unreadRecord: UnreadRecord): EntityRecord | undefined {
  const fields = unreadRecord.$unknown ?? [];
  if (fields.length === 1 && fields[0]!.wireType === WireType.LengthDelimited) {
    const { no, data } = fields[0]!;
    const recordCase = CASE_BY_NUMBER.get(no) as (typeof RECORD_CASE)[EntityName] | undefined;
    const spec = recordCase && ENTITY_BY_CASE.get(recordCase);
    if (spec) {
      // `data` is the case's length, then its message.
      const start = lengthEnd(data);
      if (start > 0) {
        const record = plainRecordFromBytes(spec, data, start, data.length);
        if (record) return new PlainEntityRecord(recordCase!, record);
      }
    }
  }
  const parts: Uint8Array[] = [];
  for (const field of fields) parts.push(varint(field.no * 8 + field.wireType), field.data);
  try {
    return fromBinary(EntityRecordSchema, Buffer.concat(parts));
  } catch {
    return undefined;
  }
}

/** Where the length prefix of `data` ends, if it gives the rest of `data` exactly; 0 otherwise. */
function lengthEnd(data: Uint8Array): number {
  let length = 0;
  for (let i = 0; i < 5 && i < data.length; i++) {
    const b = data[i]!;
    length += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return length === data.length - i - 1 ? i + 1 : 0;
  }
  return 0;
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

function varint(value: number): Uint8Array {
  const bytes: number[] = [];
  while (value >= 0x80) {
    bytes.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  bytes.push(value);
  return Uint8Array.from(bytes);
}
