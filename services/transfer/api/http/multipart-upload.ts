/**
 * Reads a `multipart/form-data` upload to its end before anything acts on it:
 * the form fields as text, and the one file part spooled to a private
 * temporary file (never past the import size limit, so memory stays flat
 * and the disk holds at most one limit's worth).
 *
 * Why the whole body first: fields may come in any order, and a field after
 * the file (`curl -F file=@users.csv -F dry_run=true`, the order people type)
 * changes what the import does. A file streamed into the job as it arrives
 * would be written before such a field is seen; this way every field is
 * known, and checked, before a record is written.
 *
 * And why a refusal at once: a form field the route does not take, a second
 * file part, more than {@link MAX_FIELDS} fields or a field over
 * {@link MAX_FIELD_BYTES} are refused
 * (400) the moment they arrive — never dropped or truncated (busboy's limits
 * otherwise drop and cut silently) — and the rest of the body is not read.
 * So is a part sent with a `Content-Transfer-Encoding` other than the
 * identity ones ({@link IDENTITY_TRANSFER_ENCODINGS}): busboy passes its bytes
 * on undecoded, and a quoted-printable file would import `Jos=C3=A9` as a name.
 *
 * The file part's own Content-Type, parameters and all, is read beside busboy
 * (part-headers.ts), which keeps only its `type/subtype`: a charset declared
 * there is checked by the route (declared-charset.ts), not dropped. The
 * parts found there must be the parts busboy read, name for name: busboy
 * skips a part without a readable Content-Disposition without a word. And a
 * form field is the bytes sent, read as UTF-8 or refused (form-field-text.ts),
 * not busboy's decoding of them, which turns what is not UTF-8 into U+FFFD.
 */
import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import busboy from "busboy";
import contentType from "content-type";
import { charsetOf } from "./declared-charset.js";
import { FIELD_CHARSETS, formFieldText } from "./form-field-text.js";
import { PartHeaderScanner, partsDisagreement } from "./part-headers.js";
import { InvalidTransferRequestError } from "../../errors.js";

/** Form fields an upload may have besides its file. */
export const MAX_FIELDS = 50;
/** Longest form field value (a mapping or options object is far smaller). */
export const MAX_FIELD_BYTES = 1 << 20;

/**
 * The `Content-Transfer-Encoding`s whose bytes are the part's own (busboy's
 * default, when the header is absent, is `7bit`). RFC 7578 deprecates the
 * header for form data; a client that still sends `base64` or
 * `quoted-printable` is refused rather than read encoded.
 */
export const IDENTITY_TRANSFER_ENCODINGS: readonly string[] = ["7bit", "8bit", "binary"];

/** Refuses a part whose bytes are transfer-encoded (see {@link IDENTITY_TRANSFER_ENCODINGS}). */
function checkTransferEncoding(name: string, encoding: string): void {
  if (IDENTITY_TRANSFER_ENCODINGS.includes(encoding.trim())) return;
  throw new InvalidTransferRequestError(
    `the form part ${JSON.stringify(name)} is sent with Content-Transfer-Encoding: ${encoding}, which this endpoint does not decode; send its bytes as they are (binary, or leave the header out)`,
    name,
  );
}

/**
 * Refuses a request Content-Type whose `charset` is not UTF-8 or US-ASCII
 * (`multipart/form-data; charset=windows-1252; boundary=…`): the form's
 * fields are read as UTF-8 (form-field-text.ts), and a charset said for the
 * whole form is not one to pass over. Apache HttpClient sends
 * `charset=UTF-8` there; browsers and curl send none.
 */
function checkRequestCharset(requestContentType: string | undefined): void {
  // An unreadable Content-Type has no charset here: busboy refuses it.
  const charset = charsetOf(requestContentType);
  if (charset === undefined || FIELD_CHARSETS.has(charset)) return;
  throw new InvalidTransferRequestError(
    `the request's Content-Type says charset=${charset}, but form fields are read as UTF-8 only: send them as UTF-8 and leave the charset out (a file's own encoding goes in the format's encoding option)`,
    "content-type",
  );
}

/**
 * Refuses a body sent with a Content-Encoding (gzip, br, …): it is not
 * decoded here, and read as it is a compressed form is bytes busboy cannot
 * split ("Unexpected end of form"), or, with the header set by mistake on a
 * plain body, a body that says one thing and is another. `identity` is no
 * coding at all.
 */
function checkContentEncoding(header: string | undefined): void {
  if (header === undefined) return;
  const codings = header
    .split(",")
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== "" && c !== "identity");
  if (codings.length === 0) return;
  throw new InvalidTransferRequestError(
    `the request body is sent with Content-Encoding: ${codings.join(", ")}, which this endpoint does not decode; send the form uncompressed (a ZIP bundle, POST /import?bundle=true, carries files compressed)`,
    "content-encoding",
  );
}

export interface SpooledFile {
  path: string;
  /** The name the client gave the file part. */
  fileName: string;
  /** Bytes kept (at most one past the import size limit: see UploadRules.maxFileBytes). */
  bytes: number;
  /** The part's Content-Type as sent (`text/csv; charset=windows-1252`); undefined when it had none, or its headers could not be told apart. */
  contentType?: string;
  remove(): Promise<void>;
}

export interface Upload {
  /** Field values by name, in the order they came (a name appears once: `checkName` refuses repeats). */
  fields: Map<string, string>;
  file?: SpooledFile;
}

export interface UploadRules {
  /** The name of the file part. */
  fileField: string;
  /** Called for each part's name as it arrives (file part included); throws to refuse it. */
  checkName(name: string, seen: readonly string[]): void;
  /** Called when the file part starts, with the fields so far; throws to refuse the upload (e.g. a 403) before the file is read. */
  beforeFile?(fields: ReadonlyMap<string, string>): void;
  /** Bytes of the file kept; one past the import size limit lets the job refuse it with its usual error. */
  maxFileBytes: number;
}

/**
 * Writes a file part to a private temporary file, keeping at most `maxBytes`;
 * the rest is discarded as it arrives.
 */
async function spoolFile(stream: Readable, fileName: string, maxBytes: number): Promise<SpooledFile> {
  const dir = await mkdtemp(join(tmpdir(), "dx-upload-"));
  const remove = () => rm(dir, { recursive: true, force: true });
  const path = join(dir, "file");
  try {
    const out = createWriteStream(path, { mode: 0o600 });
    let kept = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (kept >= maxBytes) continue;
      const part = chunk.subarray(0, maxBytes - kept);
      kept += part.byteLength;
      if (!out.write(part)) await new Promise<void>((r) => out.once("drain", () => r()));
    }
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    return { path, fileName, bytes: kept, remove };
  } catch (error) {
    await remove();
    throw new InvalidTransferRequestError(`the upload ended early: ${(error as Error).message}`, "file");
  }
}

/**
 * Reads the whole upload. Rejects with an InvalidTransferRequestError (or
 * what `checkName` / `beforeFile` threw) at the first part it refuses; the
 * caller then stops reading the request and answers. The spooled file, if
 * any, is the caller's to remove once resolved; on rejection it is removed
 * here.
 */
export function readUpload(req: IncomingMessage, rules: UploadRules): Promise<Upload> {
  try {
    checkContentEncoding(req.headers["content-encoding"]);
    checkRequestCharset(req.headers["content-type"]);
  } catch (error) {
    return Promise.reject(error);
  }
  let parser: busboy.Busboy;
  try {
    // One more than allowed of each, so that going over is an event we refuse rather than a silent drop.
    parser = busboy({ headers: req.headers, limits: { fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES, files: 2, parts: MAX_FIELDS + 2 } });
  } catch (error) {
    return Promise.reject(new InvalidTransferRequestError(`the multipart body cannot be read: ${(error as Error).message}`, "content-type"));
  }
  const fields = new Map<string, string>();
  const seen: string[] = [];
  const scanner = partHeaderScanner(req.headers["content-type"]);
  let spooling: Promise<SpooledFile> | undefined;
  let settled = false;
  return new Promise<Upload>((resolve, reject) => {
    const refuse = (error: unknown) => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      parser.removeAllListeners();
      parser.on("error", () => undefined);
      // Ends a file part still arriving (its spool then fails and removes itself).
      parser.destroy();
      void spooling?.then(
        (file) => file.remove(),
        () => undefined,
      );
      reject(error);
    };
    const accept = (name: string | undefined, transferEncoding: string): name is string => {
      if (!name) {
        // busboy hands on a part whose Content-Disposition has no name; the scanner, which has its headers already, says which part.
        refuse(new InvalidTransferRequestError((scanner && partsDisagreement(scanner, seen)) ?? 'a part of the form has no name in its Content-Disposition (form-data; name="…")', "form"));
        return false;
      }
      try {
        rules.checkName(name, seen);
        checkTransferEncoding(name, transferEncoding);
        seen.push(name);
        return true;
      } catch (error) {
        refuse(error);
        return false;
      }
    };
    // busboy's decoded value is not used: its bytes, as the scanner kept them, are read or refused (form-field-text.ts).
    parser.on("field", (name, _decoded, info) => {
      if (!accept(name, info.encoding)) return;
      if (info.valueTruncated) return refuse(new InvalidTransferRequestError(`the form field ${name} is larger than ${MAX_FIELD_BYTES / (1 << 20)} MiB`, name));
      // The scanner is ahead of busboy (it sees each chunk first), so the field's part has ended there too.
      const part = scanner?.parts[seen.length - 1];
      if (part?.name !== name || part.body === undefined) {
        return refuse(new InvalidTransferRequestError((scanner && partsDisagreement(scanner, seen)) ?? `the form field ${name} cannot be read one way only`, "form"));
      }
      try {
        fields.set(name, formFieldText(name, part.body, part.headers["content-type"]));
      } catch (error) {
        refuse(error);
      }
    });
    parser.on("file", (name, stream, info) => {
      // A refused upload destroys the part it is in: that is expected, not an error to crash on.
      stream.on("error", () => undefined);
      if (!accept(name, info.encoding)) return void stream.resume();
      try {
        rules.beforeFile?.(fields);
      } catch (error) {
        stream.resume();
        return refuse(error);
      }
      spooling = spoolFile(stream, info.filename ?? "", rules.maxFileBytes);
      spooling.catch(refuse);
    });
    parser.on("fieldsLimit", () => refuse(new InvalidTransferRequestError(`the upload has more than ${MAX_FIELDS} form fields`, "form")));
    parser.on("partsLimit", () => refuse(new InvalidTransferRequestError(`the upload has more than ${MAX_FIELDS + 1} parts`, "form")));
    parser.on("filesLimit", () => refuse(new InvalidTransferRequestError(`the upload has more than one file part; send one ${JSON.stringify(rules.fileField)}`, rules.fileField)));
    parser.on("error", (error: Error) => refuse(new InvalidTransferRequestError(`the multipart body cannot be read: ${error.message}`, "form")));
    parser.on("close", () => {
      if (settled) return;
      const disagreement = scanner ? partsDisagreement(scanner, seen) : "the request's Content-Type names no boundary this endpoint can read";
      if (disagreement) return refuse(new InvalidTransferRequestError(disagreement, "form"));
      if (!spooling) {
        settled = true;
        resolve({ fields });
        return;
      }
      spooling.then((file) => {
        if (settled) return void file.remove();
        settled = true;
        resolve({ fields, file: { ...file, contentType: fileContentType(scanner!, rules.fileField) } });
      }, refuse);
    });
    if (scanner) req.on("data", (chunk: Buffer) => scanner.write(chunk));
    req.pipe(parser);
  });
}

/** A scanner of the body's part headers, when the request's Content-Type names a boundary (busboy refuses the body otherwise). */
function partHeaderScanner(requestContentType: string | undefined): PartHeaderScanner | undefined {
  try {
    const boundary = requestContentType ? contentType.parse(requestContentType).parameters.boundary : undefined;
    return boundary ? new PartHeaderScanner(boundary, MAX_FIELD_BYTES) : undefined;
  } catch {
    return undefined;
  }
}

/** The Content-Type of the part named `name` (one only: the parts were checked against busboy's, whose names are unique). */
function fileContentType(scanner: PartHeaderScanner, name: string): string | undefined {
  return scanner.parts.find((p) => p.name === name)?.headers["content-type"];
}
