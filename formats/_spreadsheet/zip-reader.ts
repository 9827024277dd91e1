/**
 * Reading a ZIP archive that arrives as a stream (an upload), for XLSX and ODS.
 *
 * A ZIP's table of contents (the central directory) is at its end, and the
 * parts a spreadsheet reader needs come in no useful order: Excel writes the
 * sheets before the styles that say which numbers are dates and before the
 * shared strings their cells point into. Reading entry by entry from the
 * local headers would have to hold a whole sheet until those arrive, and
 * cannot read stored entries written with data descriptors at all. So the
 * upload is spooled first — in memory up to {@link IN_MEMORY_BYTES}, then to
 * a temporary file (deleted when reading ends, however it ends) — and read
 * with yauzl through the central directory, as Excel and LibreOffice do.
 * Memory stays flat (one inflated chunk at a time); what it costs is that
 * rows start only once the upload is complete, and disk for the file.
 *
 * Zip bombs are refused before anything is inflated, from the central
 * directory: too many entries, a total declared size over the limit, or an
 * entry whose declared size is out of proportion to its compressed size.
 * Declared sizes cannot lie: yauzl checks every inflated entry against its
 * declared size (`validateEntrySizes`) and fails the read when they differ.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yauzl from "yauzl";
import { FormatError } from "@data-exchange/format-sdk";

/** Uploads up to this size are read from memory; larger ones from a temporary file. */
export const IN_MEMORY_BYTES = 8 * 1024 * 1024;

export interface ZipLimits {
  /** Most entries an archive may list (a workbook has tens; 10,000 leaves room for images). */
  maxEntries: number;
  /** Largest total of the entries' declared uncompressed sizes. */
  maxUncompressedBytes: number;
  /** Largest uncompressed : compressed ratio of an entry bigger than {@link RATIO_FLOOR_BYTES}. */
  maxRatio: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntries: 10_000,
  maxUncompressedBytes: 4 * 1024 ** 3,
  // Deflate cannot do better than ~1032:1; sheet XML deflates ~7:1 (our million-row export),
  // a sheet of one repeated value ~300:1.
  maxRatio: 1000,
};

/** Entries smaller than this are not held to the ratio: tiny parts compress oddly either way. */
const RATIO_FLOOR_BYTES = 1024 * 1024;

export interface ZipArchive {
  /** Entry names as listed, for finding parts. */
  names(): string[];
  has(name: string): boolean;
  /** The entry's inflated bytes, in chunks; throws FormatError when the entry is missing or broken. */
  read(name: string): AsyncGenerator<Buffer>;
  close(): Promise<void>;
}

/**
 * Spools `input` and opens it as a ZIP archive. Refuses an empty input (0
 * bytes: a file with no header row, as every tabular format refuses it) and
 * anything that is not a ZIP archive, naming the format expected.
 */
export async function openZip(input: AsyncIterable<Uint8Array>, what: string, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<ZipArchive> {
  const spool = await spoolInput(input);
  try {
    if (spool.size === 0) throw new FormatError(`the file is empty (0 bytes): it has no header row, and is not ${what}`, { offset: 0 });
    if (spool.head[0] !== 0x50 || spool.head[1] !== 0x4b) {
      throw new FormatError(`not ${what}: the file is not a ZIP archive (it does not start with "PK")`, { offset: 0 });
    }
    let zip: yauzl.ZipFile;
    const options = { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false };
    try {
      zip = spool.buffer ? await yauzl.fromBufferPromise(spool.buffer, options) : await yauzl.openPromise(spool.path!, options);
    } catch (err) {
      throw new FormatError(`not ${what}: cannot read the ZIP archive (${(err as Error).message})`, {}, { cause: err });
    }
    const entries = new Map<string, yauzl.Entry>();
    try {
      if (zip.entryCount > limits.maxEntries) {
        throw new FormatError(`refused: the ZIP archive lists ${zip.entryCount} entries, more than the limit of ${limits.maxEntries}`);
      }
      let total = 0;
      for await (const entry of zip.eachEntry()) {
        total += entry.uncompressedSize;
        if (total > limits.maxUncompressedBytes) {
          throw new FormatError(`refused: the ZIP archive unpacks to more than ${limits.maxUncompressedBytes} bytes (a zip bomb?)`);
        }
        if (entry.uncompressedSize > RATIO_FLOOR_BYTES && entry.uncompressedSize > limits.maxRatio * Math.max(1, entry.compressedSize)) {
          throw new FormatError(
            `refused: ZIP entry ${JSON.stringify(entry.fileName)} unpacks ${Math.round(entry.uncompressedSize / Math.max(1, entry.compressedSize))} times its size, more than the limit of ${limits.maxRatio} (a zip bomb?)`,
          );
        }
        entries.set(entry.fileName, entry);
      }
    } catch (err) {
      zip.close();
      if (err instanceof FormatError) throw err;
      throw new FormatError(`not ${what}: cannot read the ZIP archive (${(err as Error).message})`, {}, { cause: err });
    }
    return {
      names: () => [...entries.keys()],
      has: (name) => entries.has(name),
      read: (name) => readEntry(zip, entries.get(name), name),
      close: async () => {
        zip.close();
        await spool.dispose();
      },
    };
  } catch (err) {
    await spool.dispose();
    throw err;
  }
}

async function* readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry | undefined, name: string): AsyncGenerator<Buffer> {
  if (entry === undefined) throw new FormatError(`the file has no part ${JSON.stringify(name)}`);
  let stream;
  try {
    stream = await zip.openReadStreamPromise(entry);
  } catch (err) {
    throw new FormatError(`cannot read ${JSON.stringify(name)} from the ZIP archive (${(err as Error).message})`, {}, { cause: err });
  }
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (err) {
    if (err instanceof FormatError) throw err;
    throw new FormatError(`cannot read ${JSON.stringify(name)} from the ZIP archive (${(err as Error).message})`, {}, { cause: err });
  } finally {
    stream.destroy();
  }
}

interface Spool {
  size: number;
  /** The first bytes, for the signature check. */
  head: Buffer;
  buffer?: Buffer;
  path?: string;
  dispose(): Promise<void>;
}

/** Copies the input to memory, or past {@link IN_MEMORY_BYTES} to a temporary file. */
async function spoolInput(input: AsyncIterable<Uint8Array>): Promise<Spool> {
  let parts: Buffer[] = [];
  let size = 0;
  let dir: string | undefined;
  let file: WriteStream | undefined;
  const dispose = async () => {
    file?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  };
  let head = Buffer.alloc(0);
  try {
    for await (const chunk of input) {
      if (head.length < 4) head = Buffer.concat([head, Buffer.from(chunk.subarray(0, 4 - head.length))]);
      size += chunk.byteLength;
      if (file === undefined) {
        parts.push(Buffer.from(chunk)); // a copy: the producer may reuse its buffer
        if (size <= IN_MEMORY_BYTES) continue;
        dir = await mkdtemp(join(tmpdir(), "dx-zip-"));
        file = createWriteStream(join(dir, "upload.zip"));
        for (const p of parts) if (!file.write(p)) await drained(file);
        parts = [];
        continue;
      }
      if (!file.write(Buffer.from(chunk))) await drained(file);
    }
    if (file === undefined) return { size, head, buffer: Buffer.concat(parts, size), dispose };
    await new Promise<void>((resolve, reject) => file!.end((err?: Error | null) => (err ? reject(err) : resolve())));
    return { size, head, path: join(dir!, "upload.zip"), dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

function drained(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    stream.once("error", onError);
    stream.once("drain", () => {
      stream.off("error", onError);
      resolve();
    });
  });
}
