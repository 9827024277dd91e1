/**
 * Keeps an RPC error small enough to travel. gRPC sends an error's message
 * (`grpc-message`, percent-encoded) and its details (`grpc-status-details-bin`,
 * base64) as HTTP/2 trailers, and a trailer block past ~16 KB never arrives:
 * the caller got `INTERNAL: Stream closed with error code
 * NGHTTP2_FRAME_SIZE_ERROR` instead of, say, the INVALID_ARGUMENT that listed
 * 500 unknown column names. So the message is cut to {@link MAX_MESSAGE_BYTES}
 * (as encoded on the wire) saying how much was cut, and the details to
 * {@link MAX_DETAILS_BYTES}: field violations keep as many entries as fit,
 * each reason clipped, plus one entry counting the rest. The code, and the
 * cause (for logs), are kept.
 */
import { create, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { FieldViolationsSchema, RecordErrorSchema, type RecordError } from "../../../gen/dataexchange/records/v1/records_pb.js";

/** Longest message, in bytes as `grpc-message` carries it. */
export const MAX_MESSAGE_BYTES = 2048;
/** Most bytes of details (before base64). */
export const MAX_DETAILS_BYTES = 4096;
/** Longest field name or reason kept in one field violation. */
const MAX_VIOLATION_CHARS = 300;

type Detail = ConnectError["details"][number];

/** Bytes a character takes in `grpc-message`: printable ASCII as is (but `%`), the rest percent-encoded UTF-8. */
function wireBytes(codePoint: number): number {
  if (codePoint >= 0x20 && codePoint <= 0x7e && codePoint !== 0x25) return 1;
  return 3 * (codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4);
}

/** `text` cut to at most `max` wire bytes, with a note saying how many characters were cut. */
export function clipMessage(text: string, max = MAX_MESSAGE_BYTES): string {
  let bytes = 0;
  for (const char of text) bytes += wireBytes(char.codePointAt(0)!);
  if (bytes <= max) return text;
  const characters = [...text];
  const room = max - 60; // the note
  let used = 0;
  let kept = 0;
  while (kept < characters.length && used + wireBytes(characters[kept]!.codePointAt(0)!) <= room) used += wireBytes(characters[kept++]!.codePointAt(0)!);
  return `${characters.slice(0, kept).join("")}… [${characters.length - kept} more characters cut]`;
}

function clip(text: string, max = MAX_VIOLATION_CHARS): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function detailBytes(detail: Detail): number {
  if ("desc" in detail) return toBinary(detail.desc as DescMessage, create(detail.desc as DescMessage, detail.value as never)).byteLength;
  return detail.value.byteLength;
}

/** Field violations that fit in `budget` bytes: the first ones, clipped, and a last entry counting the others. */
function boundedViolations(violations: readonly RecordError[], budget: number): Detail {
  const kept: RecordError[] = [];
  const clipped = violations.map((v) => create(RecordErrorSchema, { index: v.index, field: clip(v.field), reason: clip(v.reason), code: v.code }));
  const size = (list: RecordError[]) => toBinary(FieldViolationsSchema, create(FieldViolationsSchema, { violations: list })).byteLength;
  const rest = (n: number) => create(RecordErrorSchema, { reason: `… and ${n} more (cut to keep the error small)`, code: "truncated" });
  for (const v of clipped) {
    if (size([...kept, v, rest(clipped.length)]) > budget) break;
    kept.push(v);
  }
  const violationsOut = kept.length < clipped.length ? [...kept, rest(clipped.length - kept.length)] : kept;
  return { desc: FieldViolationsSchema, value: create(FieldViolationsSchema, { violations: violationsOut }) };
}

/** The error, with its message and details within the limits; the same object when they already are. */
export function boundedError(error: ConnectError): ConnectError {
  const message = clipMessage(error.rawMessage);
  const total = error.details.reduce((sum, d) => sum + detailBytes(d), 0);
  if (message === error.rawMessage && total <= MAX_DETAILS_BYTES) return error;
  let details = error.details;
  if (total > MAX_DETAILS_BYTES) {
    details = [];
    let left = MAX_DETAILS_BYTES;
    for (const detail of error.details) {
      const fieldViolations = "desc" in detail && detail.desc.typeName === FieldViolationsSchema.typeName;
      const fitted = fieldViolations ? boundedViolations((detail.value as { violations?: RecordError[] }).violations ?? [], left) : detail;
      const bytes = detailBytes(fitted);
      // A detail of another kind that does not fit is left out; the message still says what went wrong.
      if (bytes > left) continue;
      details.push(fitted);
      left -= bytes;
    }
  }
  const bounded = new ConnectError(message, error.code, error.metadata, undefined, error.cause ?? error);
  bounded.details = details;
  return bounded;
}
