/**
 * The text of a request sent as JSON (the Connect protocol's JSON encoding,
 * unary or streamed, and gRPC-Web with JSON), checked before Protobuf-ES
 * reads it. Connect decodes a JSON body with a default `TextDecoder` and
 * hands the text to `JSON.parse`, and each of those changes a request
 * without a word:
 *
 * - bytes that are not UTF-8 become U+FFFD (a Latin-1 "José" is stored as
 *   "Jos\uFFFD");
 * - a key given twice keeps its last value (`"dryRun": true, "dryRun": false`
 *   writes for real);
 * - an integer a double cannot hold is rounded (`"limit": 9007199254740993`
 *   asks for 9007199254740992), though an int64 field could hold it.
 *
 * So each is refused as INVALID_ARGUMENT, naming the byte, the key or the
 * integer. The checks are the JSON readers' own (formats/_sdk/json-text.ts),
 * so a request and a JSON file are held to one rule. A text `JSON.parse`
 * refuses is handed on as it is, for Protobuf-ES to report as before.
 *
 * Cost: a second `JSON.parse` and one pass over the text per JSON message;
 * the binary encodings, which the services and the bench use between
 * themselves, are not touched.
 */
import { byteHex, checkJsonText, duplicateKeyReason, inexactIntegerReason, invalidUtf8At } from "../../../formats/_sdk/index.js";

/** Strict, and a byte order mark at the start is dropped as any JSON reader may (RFC 8259 §8.1). */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Connect's `textDecoder` for JSON messages (jsonOptions); throws an Error that Connect answers as INVALID_ARGUMENT. */
export const connectJsonText = {
  decode(input?: Uint8Array): string {
    const bytes = input ?? new Uint8Array(0);
    let text: string;
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      const at = invalidUtf8At(bytes);
      throw new Error(`the request's JSON is not valid UTF-8: byte ${byteHex(bytes[at] ?? 0)} at offset ${at}; JSON text must be UTF-8`);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return text;
    }
    const found = checkJsonText(text, value, { inexactIntegers: "all" });
    if (found?.duplicateKey !== undefined) throw new Error(`the request's JSON has a ${duplicateKeyReason(found.duplicateKey.path)}`);
    if (found?.inexactInteger !== undefined) throw new Error(`the request's JSON: ${inexactIntegerReason(found.inexactInteger)}`);
    return text;
  },
};
