/**
 * A file part's declared charset (`Content-Type: text/csv; charset=windows-1252`,
 * as curl sends `-F "file=@users.csv;type=text/csv;charset=windows-1252"`)
 * against the encoding the import will read the file in. Before, it was
 * dropped (busboy passes on no parameters): a Windows-1252 file whose bytes
 * happen to be valid UTF-8 (`Ã©`) was imported as UTF-8, silently other text
 * than its sender said.
 *
 * The rule is to agree or refuse, never to guess: UTF-8 (or US-ASCII, a part
 * of it) agrees with the default reading and with `encoding: "utf-8"`; any
 * other charset must be named as the format's `encoding` option too (the CSV
 * format reads UTF-16, ISO-8859-1 and Windows-1252), so the request says one
 * thing twice rather than two things. A charset this service does not read is
 * refused, as is one that disagrees with the option.
 */
import contentType from "content-type";
import type { JsonObject } from "@bufbuild/protobuf";
import { InvalidTransferRequestError } from "../../errors.js";

/** Charset labels (lower case) and the `encoding` options that read them. */
const READ_AS: Readonly<Record<string, readonly string[]>> = {
  "utf-8": ["utf-8"],
  utf8: ["utf-8"],
  "us-ascii": ["utf-8"],
  ascii: ["utf-8"],
  "utf-16le": ["utf-16le"],
  "utf-16be": ["utf-16be"],
  // No byte order in the name: the file's BOM says it, with either option.
  "utf-16": ["utf-16le", "utf-16be"],
  "iso-8859-1": ["latin1", "windows-1252"],
  latin1: ["latin1", "windows-1252"],
  "iso_8859-1": ["latin1", "windows-1252"],
  "windows-1252": ["windows-1252"],
  cp1252: ["windows-1252"],
};

/** The `encoding` options that read `charset`; undefined for a charset this service does not read. */
function encodingsReading(charset: string): readonly string[] | undefined {
  return Object.hasOwn(READ_AS, charset) ? READ_AS[charset] : undefined;
}

/** The `charset` parameter of a part's Content-Type, lower case; undefined when it has none (or no readable Content-Type: busboy then takes it as a plain file). */
export function charsetOf(partContentType: string | undefined): string | undefined {
  if (!partContentType) return undefined;
  try {
    return contentType.parse(partContentType).parameters.charset?.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * Refuses (400, naming the file part) a declared charset this service does
 * not read, or one the format options' `encoding` does not agree with.
 */
export function checkDeclaredCharset(partContentType: string | undefined, formatOptions: JsonObject, optionsField: string): void {
  const charset = charsetOf(partContentType);
  if (charset === undefined) return;
  const readAs = encodingsReading(charset);
  const said = `the file part declares charset=${charset}`;
  if (!readAs) {
    throw new InvalidTransferRequestError(`${said}, which this service does not read; send the file as UTF-8, or as UTF-16, ISO-8859-1 or Windows-1252 with the format's encoding option`, "file");
  }
  const option = formatOptions.encoding;
  if (option === undefined && readAs.includes("utf-8")) return;
  if (typeof option === "string" && readAs.includes(option)) return;
  const wanted = readAs.map((e) => JSON.stringify(e)).join(" or ");
  if (option === undefined) {
    throw new InvalidTransferRequestError(`${said}, but the file would be read as UTF-8: give ${optionsField} {"encoding": ${wanted}} to read it so (the csv format takes it)`, "file");
  }
  throw new InvalidTransferRequestError(`${said}, but ${optionsField} say encoding ${JSON.stringify(option)}: say one encoding (${wanted})`, "file");
}

/**
 * A bundle's file is a ZIP or a workbook, whose entries carry their own
 * encodings (a CSV entry's is its `<entity>.options` encoding): a charset
 * other than UTF-8 on its part is refused rather than applied to no entry.
 */
export function checkBundleCharset(partContentType: string | undefined): void {
  const charset = charsetOf(partContentType);
  if (charset === undefined || encodingsReading(charset)?.includes("utf-8")) return;
  throw new InvalidTransferRequestError(
    `the file part declares charset=${charset}, but a bundle is a ZIP or a workbook: give a CSV entry's encoding in its <entity>.options ({"encoding": …}) and leave the charset out`,
    "file",
  );
}
