/**
 * Refuses an upload whose first bytes say it is a container a text format
 * cannot be (a workbook, any ZIP, an old Office file, gzip, PDF), before the
 * plugin reads it: a CSV reader would otherwise take 4 KB of binary for
 * column names, and a JSON reader would report a syntax error at byte 0.
 * The message names what the file looks like and the format to upload it
 * with. A plugin that reads such containers (its extensions say so: xlsx,
 * ods, zip, …) gets the bytes untouched.
 */
import { FormatError, type FormatPlugin } from "../../../formats/_sdk/index.js";
import { concat } from "../../../formats/_sdk/index.js";

export interface Container {
  /** What it looks like, for the message: "an XLSX workbook". */
  what: string;
  /** The format name to suggest. */
  format: string;
  /** Plugin extensions that read it. */
  extensions: string[];
}

/** Bytes looked at to tell a workbook from another ZIP (its first entries' names). */
export const ZIP_PEEK = 4096;

/** Passes `input` through, refusing it at its first bytes when it is a container `plugin` does not read. */
export async function* refuseContainers(input: AsyncIterable<Uint8Array>, plugin: Pick<FormatPlugin, "name" | "extensions">): AsyncGenerator<Uint8Array> {
  const iterator = input[Symbol.asyncIterator]();
  let head: Uint8Array = new Uint8Array(0);
  /** The chunks looked at, handed on as they came (a plugin may depend on nothing about chunking, but the core changes none). */
  const held: Uint8Array[] = [];
  let ended = false;
  try {
    const fill = async (size: number) => {
      while (head.length < size && !ended) {
        const next = await iterator.next();
        if (next.done) ended = true;
        else {
          held.push(next.value);
          head = concat(head, next.value);
        }
      }
    };
    await fill(8);
    let found = identify(head);
    if (found === "zip") {
      await fill(ZIP_PEEK);
      found = identifyZip(head);
    }
    if (found !== undefined && !found.extensions.some((e) => plugin.extensions.includes(e))) {
      throw new FormatError(`this looks like ${found.what}, not a ${plugin.name} file (format=${plugin.name}); upload it with format=${found.format}`, { offset: 0 });
    }
    yield* held;
    for (;;) {
      const next = ended ? { done: true as const, value: undefined } : await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await iterator.return?.();
  }
}

/** The container `head` (the file's first {@link ZIP_PEEK} bytes, or all of a shorter file) is, if any. */
export function identifyContainer(head: Uint8Array): Container | undefined {
  const found = identify(head);
  return found === "zip" ? identifyZip(head) : found;
}

function startsWith(bytes: Uint8Array, signature: number[]): boolean {
  return bytes.length >= signature.length && signature.every((b, i) => bytes[i] === b);
}

function identify(head: Uint8Array): Container | "zip" | undefined {
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06]) || startsWith(head, [0x50, 0x4b, 0x07, 0x08])) return "zip";
  if (startsWith(head, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) return { what: "an old-style Office file (XLS, DOC)", format: "xlsx (save it as .xlsx or .csv first)", extensions: ["xls"] };
  if (startsWith(head, [0x1f, 0x8b])) return { what: "a gzip-compressed file", format: "the format of the file inside (decompress it first)", extensions: ["gz"] };
  if (startsWith(head, [0x25, 0x50, 0x44, 0x46, 0x2d])) return { what: "a PDF document", format: "csv, json or xlsx (export the data from the PDF's source)", extensions: ["pdf"] };
  return undefined;
}

/** An ODS file starts with its `mimetype` entry, stored uncompressed; an XLSX names `xl/` parts early. */
function identifyZip(head: Uint8Array): Container {
  const text = Buffer.from(head).toString("latin1");
  if (text.includes("application/vnd.oasis.opendocument.spreadsheet")) return { what: "an ODS spreadsheet", format: "ods", extensions: ["ods", "zip"] };
  if (text.includes("xl/") || text.includes("[Content_Types].xml")) return { what: "an XLSX workbook", format: "xlsx", extensions: ["xlsx", "xlsm", "zip"] };
  return { what: "a ZIP archive", format: "the format of the files inside (unzip it first)", extensions: ["zip"] };
}
