/**
 * Choosing an upload's format when the request names none, and refusing an
 * upload whose name and content both say it is another format than the one
 * named.
 *
 * What decides, in order:
 * 1. A container's signature (ZIP with `xl/` parts → xlsx, ZIP whose
 *    `mimetype` is ODF spreadsheet → ods; old Office files, gzip, PDF and other
 *    ZIPs are refused naming what they are). Content wins over the file name
 *    here: a workbook saved as `users.csv` is still a workbook.
 * 2. The file name's extension, when a loaded reader claims it (`.csv`, `.tsv`,
 *    `.json`, `.ndjson`, a plugin's own). A container format's extension on
 *    bytes that are not that container is refused rather than read.
 * 3. The text's first character past a byte order mark and white space: `[` is
 *    JSON (an array of records), `{` is NDJSON (one record per line), `<` is
 *    markup no reader takes (refused), anything else is CSV, whose reader
 *    sniffs the delimiter.
 *
 * The choice and its reason are kept on the job and told in the summary
 * (`format_chosen_by`), so a wrong guess is visible instead of silent.
 */
import type { FormatPlugin } from "../../../formats/_sdk/index.js";
import { identifyContainer, ZIP_PEEK } from "./container-sniff.js";
import { TransferSettingsError } from "./errors.js";

/** A format chosen for an upload, and why, in words for the job and the summary. */
export interface FormatChoice {
  format: string;
  chosenBy: string;
}

/** Bytes looked at before choosing: enough for a ZIP's first entry names and a text's first character. */
export const DETECTION_PEEK = ZIP_PEEK;

type Reader = Pick<FormatPlugin, "name" | "extensions" | "read">;

/** The format of an upload that named none, from its first bytes (`head`) and its file name. */
export function chooseFormat(head: Uint8Array, fileName: string | undefined, plugins: ReadonlyMap<string, Reader>): FormatChoice {
  const readers = [...plugins.values()].filter((p) => p.read);
  const byExtension = (ext: string) => readers.find((p) => p.extensions.includes(ext));
  const ext = extensionOf(fileName);
  const named = fileName ? ` (the file is named ${JSON.stringify(fileName)})` : "";

  const container = identifyContainer(head);
  if (container) {
    const reader = readers.find((p) => container.extensions.some((e) => e !== "zip" && p.extensions.includes(e)));
    if (!reader) throw refused(`cannot import this file: it looks like ${container.what}${named}, which no loaded format reads; upload it with format=${container.format}`);
    return { format: reader.name, chosenBy: `content: ${container.what}${ext && !container.extensions.includes(ext) ? `, although the file name ends in .${ext}` : ""}` };
  }

  if (ext) {
    const reader = byExtension(ext);
    if (reader && isContainerFormat(reader)) {
      throw refused(
        `the file is named ${JSON.stringify(fileName)} but its first bytes are not a ${reader.name} file (a ${reader.name} file is a ZIP archive); upload it with the format of its content`,
      );
    }
    if (reader) return { format: reader.name, chosenBy: `file name: .${ext}` };
  }

  const first = firstCharacter(head);
  const textual = (format: string, why: string): FormatChoice => {
    if (!plugins.get(format)?.read) throw refused(`cannot tell the format of this file${named}: it ${why}, but no loaded format named ${format} reads; give format`);
    return { format, chosenBy: `content: ${why}` };
  };
  if (first === "[") return textual("json", "starts with '[' (a JSON array)");
  if (first === "{") return textual("ndjson", "starts with '{' (a JSON record per line)");
  if (first === "<") throw refused(`cannot import this file${named}: it starts with '<' (HTML or XML), which no loaded format reads; export the table as CSV, XLSX or ODS first`);
  return textual("csv", first === undefined ? "is empty" : "is text that is not JSON");
}

/**
 * Refuses an upload named as one text format whose name and first character
 * both say another (a `users.json` starting with `[` sent as format=csv would
 * be read as one row of odd column names). Containers are refused by
 * `refuseContainers` in the pipeline; other combinations go to the named reader.
 */
export function checkNamedFormat(head: Uint8Array, fileName: string | undefined, plugin: Pick<FormatPlugin, "name" | "extensions">, plugins: ReadonlyMap<string, Reader>): void {
  const ext = extensionOf(fileName);
  if (!ext || plugin.extensions.includes(ext) || identifyContainer(head)) return;
  const owner = [...plugins.values()].find((p) => p.read && p.extensions.includes(ext));
  if (!owner) return;
  const first = firstCharacter(head);
  const looksLikeJson = first === "[" || first === "{";
  const ownerIsJson = owner.name === "json" || owner.name === "ndjson";
  const namedIsJson = plugin.name === "json" || plugin.name === "ndjson";
  if (ownerIsJson && looksLikeJson && !namedIsJson) {
    throw refused(
      `the file ${JSON.stringify(fileName)} starts with '${first}' and looks like ${owner.name}, not a ${plugin.name} file (format=${plugin.name}); upload it with format=${owner.name}, or without format to have it chosen`,
    );
  }
}

/** An INVALID_ARGUMENT naming the format setting. */
function refused(message: string): TransferSettingsError {
  return new TransferSettingsError(message, [{ setting: "format", reason: message }]);
}

/** Whether a reader's files are ZIP containers (its extensions are ones container sniffing recognises). */
export function isContainerFormat(reader: Pick<FormatPlugin, "extensions">): boolean {
  return reader.extensions.some((e) => e === "xlsx" || e === "xlsm" || e === "ods" || e === "zip");
}

/** The lower-case extension of a file name without its folders, or undefined. */
export function extensionOf(fileName: string | undefined): string | undefined {
  const base = fileName?.split(/[\\/]/).pop() ?? "";
  const dot = base.lastIndexOf(".");
  return dot > 0 && dot < base.length - 1 ? base.slice(dot + 1).toLowerCase() : undefined;
}

/** The first character of a text past a byte order mark and white space, in UTF-8 or UTF-16; undefined when there is none. */
function firstCharacter(head: Uint8Array): string | undefined {
  let i = 0;
  let step = 1;
  let offset = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3;
  else if (head[0] === 0xff && head[1] === 0xfe) [i, step, offset] = [2, 2, 0];
  else if (head[0] === 0xfe && head[1] === 0xff) [i, step, offset] = [2, 2, 1];
  for (; i + offset < head.length; i += step) {
    const byte = head[i + offset]!;
    const high = step === 2 ? head[i + 1 - offset] : 0;
    if (high !== 0) return "\u0080"; // a UTF-16 code unit outside ASCII: text, not JSON
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
    return String.fromCharCode(byte);
  }
  return undefined;
}

/**
 * Whether `head` is enough to choose a format: a text's first character is
 * known, or it is a ZIP and {@link DETECTION_PEEK} bytes (its first entry
 * names) are there. An upload is not held back longer than its format needs:
 * a slow client's first line starts its job.
 */
export function enoughToChoose(head: Uint8Array): boolean {
  if (head.length >= DETECTION_PEEK) return true;
  if (head.length < 8) return false;
  const zip = head[0] === 0x50 && head[1] === 0x4b;
  return !zip && firstCharacter(head) !== undefined;
}

/** Whether {@link checkNamedFormat} can say anything about this upload (its name's extension is another reader's); when not, nothing is peeked. */
export function namedFormatNeedsHead(fileName: string | undefined, plugin: Pick<FormatPlugin, "extensions">, plugins: ReadonlyMap<string, Reader>): boolean {
  const ext = extensionOf(fileName);
  return ext !== undefined && !plugin.extensions.includes(ext) && [...plugins.values()].some((p) => p.read && p.extensions.includes(ext));
}

/** Whether a text's first character is known from `head`. */
export function firstCharacterKnown(head: Uint8Array): boolean {
  return firstCharacter(head) !== undefined || head.length >= DETECTION_PEEK;
}

/**
 * The first bytes of `input` — until `enough(head)` or `size` bytes or its
 * end — and the input again from its start: the chunks looked at are handed
 * on as they came.
 */
export async function peekHead(input: AsyncIterable<Uint8Array>, size: number, enough: (head: Uint8Array) => boolean = () => false): Promise<{ head: Uint8Array; input: AsyncIterable<Uint8Array> }> {
  const iterator = input[Symbol.asyncIterator]();
  const held: Uint8Array[] = [];
  // The first `size` bytes, filled as chunks come: each byte is copied once, however small the chunks.
  const buffer = new Uint8Array(size);
  let length = 0;
  let ended = false;
  while (length < size && !enough(buffer.subarray(0, length))) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    held.push(next.value);
    const take = Math.min(next.value.length, size - length);
    buffer.set(next.value.subarray(0, take), length);
    length += take;
  }
  const head = buffer.slice(0, length);
  async function* replay(): AsyncGenerator<Uint8Array> {
    try {
      yield* held;
      if (ended) return;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      await iterator.return?.();
    }
  }
  return { head, input: replay() };
}
