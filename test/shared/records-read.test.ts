/**
 * Records read straight from their bytes (records-wire/records-read.ts and
 * record-from-bytes.ts) are a shortcut, not a second codec: for any bytes,
 * a StreamRecords response or a WriteRecords request read the fast way
 * decodes (with `decodeRecord`) to exactly what protobuf-es's `fromBinary`
 * of the whole message and `decodeRecord` made of it — the same records,
 * keys in the same order, the same refusals — and bytes protobuf-es refuses
 * are refused with the error Connect raised for them.
 */
import { create, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  Entity,
  EntityRecordSchema,
  StreamRecordsResponseSchema,
  WriteRecordsRequestSchema,
  type EntityRecord,
  type StreamRecordsResponse,
  type WriteRecordsRequest,
} from "../../gen/dataexchange/records/v1/records_pb.js";
import { ENTITIES, type EntityName } from "../../services/domain/index.js";
import { decodeRecord, encodeRecord, PlainEntityRecord, RECORD_CASE, type DecodeResult, type RecordEncoding } from "../../services/shared/records-wire/record-codec.js";
import { encodedRecord } from "../../services/shared/records-wire/record-bytes.js";
import { encodedStreamRecordsResponse, STREAM_RECORDS_ENCODED } from "../../services/shared/records-wire/records-as-bytes.js";
import { plainRecordFromBytes } from "../../services/shared/records-wire/record-from-bytes.js";
import { readRecords, STREAM_RECORDS_UNREAD, WRITE_RECORDS_UNREAD } from "../../services/shared/records-wire/records-read.js";

const ENTITY_NAMES = Object.keys(ENTITIES) as EntityName[];

/** A small seeded generator, so a failure names a case that can be run again. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  return { next, pick };
}

const TEXTS = ["", "a", "plain ascii text", "Ada Lovelace — ∑ 😀", "\uFEFFleading byte order mark", "ünïcödé", "x".repeat(200), "日本語のテキスト", "tab\tand\nnewline", "\u0000nul"];
const NUMBERS = [0, -0, 1, -1, 0.5, -0.5, 100, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER, 2 ** 60, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
const TIMES = [0, 1, -1, 999, -999, 1_700_000_000_123, -2_208_988_800_001, -62_135_596_800_000, 253_402_300_799_999, 86_400_000, -86_400_001];

/** A record of the entity with random fields present, of random values of their types (objects and joined entries now and then). */
function randomRecord(entity: EntityName, rng: ReturnType<typeof random>): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const field of ENTITIES[entity].fields) {
    if (rng.next() < 0.25) continue;
    switch (field.type) {
      case "string":
        record[field.key] = rng.pick(TEXTS);
        break;
      case "number":
        record[field.key] = rng.pick(NUMBERS);
        break;
      case "boolean":
        record[field.key] = rng.next() < 0.5;
        break;
      case "timestamp":
        record[field.key] = new Date(rng.next() < 0.5 ? rng.pick(TIMES) : Math.round((rng.next() - 0.5) * 8e12));
        break;
      case "string_list":
        record[field.key] = Array.from({ length: Math.floor(rng.next() * 4) }, () => rng.pick(TEXTS));
        break;
      case "object":
        if (rng.next() < 0.3) record[field.key] = { device: rng.pick(TEXTS), clicks: 3, nested: { a: [1, "b"] } };
        break;
      case "object_list":
        if (rng.next() < 0.3) record[field.key] = [{ userId: rng.pick(TEXTS), action: "view", at: new Date(rng.pick(TIMES)) }];
        break;
    }
  }
  return record;
}

type Outcome = { records: DecodeResult[]; keys: string[][] } | { error: { code: Code; message: string } };

const keysOf = (results: DecodeResult[]) => results.map((r) => (r.ok ? Object.keys(r.record) : []));

/** What a binary message's records were before: Connect's `fromBinary` of the whole message (its error worded as Connect words it), then `decodeRecord`. */
function reflectively(schema: DescMessage, bytes: Uint8Array, entity: EntityName): Outcome {
  let message: StreamRecordsResponse | WriteRecordsRequest;
  try {
    message = fromBinary(schema, bytes) as unknown as StreamRecordsResponse;
  } catch (error) {
    return { error: { code: Code.Internal, message: `parse binary: ${(error as Error).message}` } };
  }
  const records = message.records.map((r) => decodeRecord(ENTITIES[entity], r));
  return { records, keys: keysOf(records) };
}

/**
 * What they are now: the unread descriptor's parse (Connect's), then
 * {@link readRecords}, then `decodeRecord`. `framing` marks a refusal of the
 * batch's own framing (a record's length running past the end of the
 * message), which the unread parse finds before any record is read.
 */
function fast(schema: DescMessage, bytes: Uint8Array, entity: EntityName): Outcome & { framing?: true } {
  let message: StreamRecordsResponse | WriteRecordsRequest;
  try {
    message = fromBinary(schema, bytes) as unknown as StreamRecordsResponse;
  } catch (error) {
    return { error: { code: Code.Internal, message: `parse binary: ${(error as Error).message}` }, framing: true };
  }
  try {
    message = readRecords(message);
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectError);
    return { error: { code: (error as ConnectError).code, message: (error as ConnectError).rawMessage } };
  }
  const records = message.records.map((r) => decodeRecord(ENTITIES[entity], r));
  return { records, keys: keysOf(records) };
}

/**
 * The same outcome both ways, but for one kind of malformed batch: one whose
 * own framing is broken (a record's length disagreeing with its fields) is
 * refused with INTERNAL `parse binary: …`, with the reason the unread parse
 * finds first, where protobuf-es's reflective parse either refused it too (its
 * reason may be another: it stops first at a field inside a record) or read
 * it by letting a record's last field run on past the record's length into
 * the bytes after it — which protobuf's parsers in other languages refuse.
 */
function expectSameOutcome(schema: DescMessage, unread: DescMessage, bytes: Uint8Array, entity: EntityName): Outcome {
  const { framing, ...outcome } = fast(unread, bytes, entity);
  if (framing) expect(outcome).toEqual({ error: { code: Code.Internal, message: expect.stringMatching(/^parse binary: /) } });
  else expect(outcome).toEqual(reflectively(schema, bytes, entity));
  return outcome;
}

const streamBytes = (records: EntityRecord[]) => toBinary(StreamRecordsResponseSchema, { $typeName: StreamRecordsResponseSchema.typeName, records });
const writeBytes = (records: EntityRecord[]) =>
  toBinary(WriteRecordsRequestSchema, { $typeName: WriteRecordsRequestSchema.typeName, entity: Entity.SESSIONS, mode: 2, dryRun: true, ordered: true, batchId: "b-1", records });

/** Compares both ways of reading the bytes as a StreamRecords response and as a WriteRecords request; returns the fast outcome of the first. */
function expectSame(recordsBytes: Uint8Array[], entity: EntityName): Outcome {
  const asWrite = Buffer.concat([toBinary(WriteRecordsRequestSchema, create(WriteRecordsRequestSchema, { entity: Entity.USERS, batchId: "b" })), bytesOfMessage(6, recordsBytes)]);
  expectSameOutcome(WriteRecordsRequestSchema, WRITE_RECORDS_UNREAD.input, asWrite, entity);
  return expectSameOutcome(StreamRecordsResponseSchema, STREAM_RECORDS_UNREAD.output, bytesOfMessage(1, recordsBytes), entity);
}

/** Records' bytes (each an EntityRecord's) as the repeated field `no` of a message. */
function bytesOfMessage(no: number, recordsBytes: Uint8Array[]): Uint8Array {
  const writer = new BinaryWriter();
  for (const bytes of recordsBytes) writer.tag(no, WireType.LengthDelimited).bytes(bytes);
  return writer.finish();
}

/** An EntityRecord's bytes holding `payload` as the entity's case. */
function recordBytes(entity: EntityName, payload: Uint8Array): Uint8Array {
  const no = EntityRecordSchema.fields.find((f) => f.localName === RECORD_CASE[entity])!.number;
  return new BinaryWriter().tag(no, WireType.LengthDelimited).bytes(payload).finish();
}

const fastRecords = (outcome: Outcome) => ("records" in outcome ? outcome.records : []);

describe("records read straight from their bytes", () => {
  for (const encoding of ["response", "write"] as RecordEncoding[]) {
    for (const entity of ENTITY_NAMES) {
      it(`decode as the reflective path decodes them: 200 random ${entity} records encoded for a ${encoding}`, () => {
        const rng = random(entity.length * 7919 + (encoding === "write" ? 1 : 0));
        const messages: EntityRecord[] = [];
        let plain = 0;
        for (let i = 0; i < 200; i++) {
          const record = randomRecord(entity, rng);
          try {
            messages.push(encodeRecord(ENTITIES[entity], record, encoding));
          } catch {
            // A value a write refuses (a NaN, an infinity) never reaches the wire.
          }
        }
        const read = fast(STREAM_RECORDS_UNREAD.output, streamBytes(messages), entity);
        expect(read).toEqual(reflectively(StreamRecordsResponseSchema, streamBytes(messages), entity));
        expect(fast(WRITE_RECORDS_UNREAD.input, writeBytes(messages), entity)).toEqual(reflectively(WriteRecordsRequestSchema, writeBytes(messages), entity));
        // The fast path is taken for the common shapes (not everything left to the reflective one).
        const message = fromBinary(STREAM_RECORDS_UNREAD.output, streamBytes(messages)) as unknown as StreamRecordsResponse;
        for (const r of readRecords(message).records) if (r instanceof PlainEntityRecord) plain++;
        expect(plain).toBeGreaterThan(messages.length / 3);
        expect(fastRecords(read).every((r) => r.ok)).toBe(true);
      });
    }
  }

  it("are read the fast way whether the sender pre-encoded them or not (the same bytes)", () => {
    const record = { sessionId: "s1", startedAt: new Date(-1_500), score: 12.5, status: "active" };
    const pre = toBinary(STREAM_RECORDS_ENCODED.output, encodedStreamRecordsResponse([encodedRecord(ENTITIES.sessions, record, "response")]) as never);
    const message = readRecords(fromBinary(STREAM_RECORDS_UNREAD.output, pre) as unknown as StreamRecordsResponse);
    expect(message.records[0]).toBeInstanceOf(PlainEntityRecord);
    expect(decodeRecord(ENTITIES.sessions, message.records[0])).toEqual({ ok: true, record });
  });

  it("keep the fields in the order decodeRecord writes them", () => {
    const payload = new BinaryWriter().tag(7, WireType.Bit64).double(1).tag(6, WireType.LengthDelimited).string("done").tag(1, WireType.LengthDelimited).string("s1").finish();
    const outcome = expectSame([recordBytes("sessions", payload)], "sessions");
    expect("keys" in outcome && outcome.keys[0]).toEqual(["sessionId", "status", "score"]);
  });

  describe("in the unusual cases, as the reflective path", () => {
    const session = (build: (w: BinaryWriter) => BinaryWriter) => recordBytes("sessions", build(new BinaryWriter().tag(1, WireType.LengthDelimited).string("s1")).finish());
    const timestamp = (build: (w: BinaryWriter) => BinaryWriter) => build(new BinaryWriter()).finish();

    it.each([
      [
        "unknown fields of every simple wire type",
        session((w) =>
          w
            .tag(99, WireType.Varint)
            .uint64(2n ** 63n)
            .tag(98, WireType.Bit64)
            .fixed64(5n)
            .tag(97, WireType.Bit32)
            .fixed32(7)
            .tag(96, WireType.LengthDelimited)
            .string("later"),
        ),
      ],
      ["an unknown group", session((w) => w.tag(95, WireType.StartGroup).tag(1, WireType.Varint).int32(3).tag(95, WireType.EndGroup))],
      ["a field given twice (the last wins)", session((w) => w.tag(6, WireType.LengthDelimited).string("a").tag(6, WireType.LengthDelimited).string("b"))],
      [
        "a timestamp given twice (merged)",
        session((w) =>
          w
            .tag(4, WireType.LengthDelimited)
            .bytes(timestamp((t) => t.tag(1, WireType.Varint).int64(5)))
            .tag(4, WireType.LengthDelimited)
            .bytes(timestamp((t) => t.tag(2, WireType.Varint).int32(7_000_000))),
        ),
      ],
      [
        "a timestamp with nanos that round down",
        session((w) => w.tag(4, WireType.LengthDelimited).bytes(timestamp((t) => t.tag(1, WireType.Varint).int64(-5).tag(2, WireType.Varint).int32(1_400_000)))),
      ],
      [
        "a timestamp with nanos that round up",
        session((w) => w.tag(5, WireType.LengthDelimited).bytes(timestamp((t) => t.tag(1, WireType.Varint).int64(5).tag(2, WireType.Varint).int32(999_999_999)))),
      ],
      ["a timestamp with negative nanos", session((w) => w.tag(4, WireType.LengthDelimited).bytes(timestamp((t) => t.tag(2, WireType.Varint).int32(-1_500_000))))],
      ["a timestamp with seconds beyond 2^53", session((w) => w.tag(4, WireType.LengthDelimited).bytes(timestamp((t) => t.tag(1, WireType.Varint).int64(2n ** 60n))))],
      ["a timestamp with seconds far before 1970", session((w) => w.tag(4, WireType.LengthDelimited).bytes(timestamp((t) => t.tag(1, WireType.Varint).int64(-(2n ** 40n)))))],
      ["a timestamp with an unknown field", session((w) => w.tag(4, WireType.LengthDelimited).bytes(timestamp((t) => t.tag(1, WireType.Varint).int64(5).tag(3, WireType.Varint).int32(1))))],
      ["an empty timestamp", session((w) => w.tag(4, WireType.LengthDelimited).bytes(new Uint8Array(0)))],
      [
        "a bool as a long varint",
        recordBytes(
          "courses",
          new BinaryWriter()
            .tag(7, WireType.Varint)
            .uint64(2n ** 40n)
            .finish(),
        ),
      ],
      ["a bool of zero in ten bytes", recordBytes("courses", Uint8Array.from([0x38, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]))],
      ["a bool with bits beyond the 64th only", recordBytes("courses", Uint8Array.from([0x38, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02]))],
      [
        "a timestamp with seconds with bits beyond the 64th",
        session((w) => w.tag(4, WireType.LengthDelimited).bytes(Uint8Array.from([0x08, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7e]))),
      ],
      ["a timestamp with nanos of 2^32 - 1 (an int32 of -1)", session((w) => w.tag(4, WireType.LengthDelimited).bytes(Uint8Array.from([0x08, 0x05, 0x10, 0xff, 0xff, 0xff, 0xff, 0x0f])))],
      ["a NaN score", session((w) => w.tag(7, WireType.Bit64).double(Number.NaN))],
      ["a string with a byte order mark", session((w) => w.tag(6, WireType.LengthDelimited).string("\uFEFFdone"))],
      ["a string field sent as a varint", session((w) => w.tag(6, WireType.Varint).int32(1))],
      ["a score sent as fixed32", session((w) => w.tag(7, WireType.Bit32).fixed32(1).tag(6, WireType.LengthDelimited).string("done"))],
      ["a bool sent as a string", recordBytes("courses", new BinaryWriter().tag(7, WireType.LengthDelimited).string("yes").finish())],
      ["a list item sent as a varint", session((w) => w.tag(23, WireType.Varint).int32(1))],
      ["a timestamp sent as fixed64", session((w) => w.tag(4, WireType.Bit64).fixed64(1n))],
      ["a record of another entity", recordBytes("users", new BinaryWriter().tag(1, WireType.LengthDelimited).string("ada@example.org").finish())],
      ["an empty record", new Uint8Array(0)],
      ["a record with only an unknown field", new BinaryWriter().tag(9, WireType.Varint).int32(1).finish()],
      ["a record with two cases (the last wins)", Buffer.concat([recordBytes("users", new Uint8Array(0)), session((w) => w)])],
      ["a record with its case twice (merged)", Buffer.concat([session((w) => w.tag(6, WireType.LengthDelimited).string("a")), session((w) => w.tag(7, WireType.Bit64).double(2))])],
      ["a session with joined activity entries", session((w) => w.tag(24, WireType.LengthDelimited).bytes(new BinaryWriter().tag(5, WireType.LengthDelimited).string("view").finish()))],
      ["invalid UTF-8", session((w) => w.tag(6, WireType.LengthDelimited).bytes(Uint8Array.from([0x61, 0xc3, 0x28])))],
      ["a field number zero", recordBytes("sessions", Uint8Array.from([0x02, 0x00]))],
      ["wire type 7", recordBytes("sessions", Uint8Array.from([0x0f, 0x00]))],
      ["a string longer than its record", recordBytes("sessions", Uint8Array.from([0x0a, 0x05, 0x61]))],
    ] as const)("%s", (_name, bytes) => {
      expectSame([bytes, bytes], "sessions");
    });

    it("a record cut short anywhere is refused (or read) as before", () => {
      const full = encodeBytes("sessions", { sessionId: "s1", userId: "ü", startedAt: new Date(-1_234), score: 3.25, status: "done", activityIds: ["a", "b"] });
      for (let cut = 0; cut <= full.length; cut++) {
        // The record's own length says how much it holds; cut inside it, keeping its (now wrong) length…
        expectSame([full.subarray(0, cut)], "sessions");
        // …and with its length corrected, so only the inner fields are cut.
        expectSame([recordBytes("sessions", full.subarray(2, Math.max(2, cut)))], "sessions");
      }
    });

    it("garbage bytes are refused (or read) as before", () => {
      const rng = random(42);
      const valid = encodeBytes("sessions", { sessionId: "s1", startedAt: new Date(5), score: 1, status: "x" });
      for (let i = 0; i < 2000; i++) {
        const bytes = Uint8Array.from(valid);
        for (let flips = 1 + Math.floor(rng.next() * 3); flips > 0; flips--) bytes[Math.floor(rng.next() * bytes.length)] = Math.floor(rng.next() * 256);
        expectSame([bytes], "sessions");
        expectSame([Uint8Array.from({ length: Math.floor(rng.next() * 24) }, () => Math.floor(rng.next() * 256))], rng.pick(ENTITY_NAMES));
      }
    });
  });

  it("refuse, both ways, a record carrying a field the schema does not declare, naming its number: a newer sender's field is not dropped", () => {
    const session = (build: (w: BinaryWriter) => BinaryWriter) => recordBytes("sessions", build(new BinaryWriter().tag(1, WireType.LengthDelimited).string("s1")).finish());
    const refused = (outcome: Outcome) => ("records" in outcome ? outcome.records.map((r) => (r.ok ? "accepted" : [r.field, r.reason])) : outcome);
    const newer = "which this service's records.proto does not declare (a sender built from a newer schema?); refused rather than taken without it";
    expect(refused(expectSame([session((w) => w.tag(99, WireType.Varint).int32(1).tag(96, WireType.LengthDelimited).string("later").tag(99, WireType.Varint).int32(2))], "sessions"))).toEqual([
      ["record", `the session record carries field number 99, 96, ${newer}`],
    ]);
    const entry = new BinaryWriter().tag(5, WireType.LengthDelimited).string("view").tag(77, WireType.Bit32).fixed32(1).finish();
    expect(refused(expectSame([session((w) => w.tag(24, WireType.LengthDelimited).bytes(entry))], "sessions"))).toEqual([
      ["activities[0]", `activities[0] (an entry of activity) carries field number 77, ${newer}`],
    ]);
    expect(refused(expectSame([new BinaryWriter().tag(9, WireType.Varint).int32(1).finish()], "sessions"))).toEqual([
      [undefined, "the record is of a kind this service does not know (field 9 of EntityRecord); expected a session"],
    ]);
  });

  it("cannot tell a record from its bytes when its shape is unusual, and says so by returning nothing", () => {
    const payload = new BinaryWriter().tag(7, WireType.Bit32).fixed32(1).finish();
    expect(plainRecordFromBytes(ENTITIES.sessions, payload, 0, payload.length)).toBeUndefined();
    const fine = new BinaryWriter().tag(7, WireType.Bit64).double(1).finish();
    expect(plainRecordFromBytes(ENTITIES.sessions, fine, 0, fine.length)).toEqual({ score: 1 });
  });
});

function encodeBytes(entity: EntityName, record: Record<string, unknown>): Uint8Array {
  return toBinary(EntityRecordSchema, encodeRecord(ENTITIES[entity], record, "response"));
}
