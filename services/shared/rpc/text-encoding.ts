/**
 * Strings read from protobuf keep a leading U+FEFF.
 *
 * Protobuf-ES decodes UTF-8 with a default `TextDecoder`, which takes a
 * U+FEFF at the start of its input for a byte order mark and drops it. Each
 * string field is decoded on its own, so a value that starts with U+FEFF
 * ("\ufeffstart", a cell a spreadsheet pasted it into) lost its first
 * character between the services and was stored as "start" — in every
 * format, found by a QA pass on 2 December 2026. A byte order mark belongs to
 * a file, which the format plugins read with decoders of their own; inside a
 * protobuf string it is a character like any other.
 *
 * Imported for its effect, before anything decodes: by the records wire
 * reader (records-wire/record-from-bytes.ts, which captures the decoder when
 * it loads) and by both services' servers.
 */
import { configureTextEncoding } from "@bufbuild/protobuf/wire";

const encoder = new TextEncoder();
const lenient = new TextDecoder("utf-8", { ignoreBOM: true });
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

configureTextEncoding({
  encodeUtf8: (text) => encoder.encode(text),
  decodeUtf8: (bytes, isStrict) => (isStrict ? strict : lenient).decode(bytes),
  // As Protobuf-ES checks: a string with a lone surrogate cannot be encoded.
  checkUtf8: (text) => {
    try {
      encodeURIComponent(text);
      return true;
    } catch {
      return false;
    }
  },
});
