/**
 * A download's media type with the charset its bytes are in. A plugin's
 * `mimeType` is the format's (`text/csv`), and the HTTP layer labels textual
 * downloads UTF-8 when nothing else is said; a CSV written with
 * `{"encoding": "utf-16le"}` or `"latin1"` must say so, or a browser or a
 * script that trusts the header decodes it wrongly.
 */

/** IANA charset names of the write encodings format plugins take. */
const CHARSETS: Readonly<Record<string, string>> = {
  "utf-8": "utf-8",
  "utf-16le": "utf-16le",
  "utf-16be": "utf-16be",
  latin1: "iso-8859-1",
  "windows-1252": "windows-1252",
};

/** `mimeType` with `; charset=…` when the parsed write options name an encoding (`encoding`). */
export function downloadMimeType(mimeType: string, options: unknown): string {
  const encoding = options !== null && typeof options === "object" ? (options as { encoding?: unknown }).encoding : undefined;
  if (typeof encoding !== "string") return mimeType;
  return `${mimeType}; charset=${CHARSETS[encoding] ?? encoding}`;
}
