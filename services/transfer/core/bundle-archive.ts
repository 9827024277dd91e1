/**
 * Opening a bundle upload for import: a workbook with a sheet per entity
 * (XLSX, ODS) or a ZIP of one file per entity (`users.csv`,
 * `enrollments.json`, … as Canvas takes them and as a bundle export writes
 * them), and the parts it holds, in dependency order.
 *
 * The upload is spooled to a temporary file first (a ZIP's table of contents
 * is at its end, and a workbook is read once per sheet), its size capped and
 * hashed as it arrives, then opened with the spreadsheet formats' ZIP reader,
 * whose zip-bomb limits (entry count, total unpacked size, ratio) refuse the
 * archive from its central directory before anything is inflated.
 *
 * Everything the bundle holds must be understood, or it is refused before a
 * record is read: an entry or sheet not named after an entity, an entity
 * twice (`users.csv` and `users.json`), an entry in a folder, an extension no
 * loaded format reads, a hidden sheet or a continuation sheet (`users (2)`).
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { FormatError, type FormatPlugin } from "../../../formats/_sdk/index.js";
import { DEFAULT_ZIP_LIMITS, openZip, type ZipArchive, type ZipLimits } from "../../../formats/_spreadsheet/zip-reader.js";
import { ENTITY_NAMES, entitySpec, type EntityName, type EntitySpec } from "../../domain/index.js";
import { TransferSettingsError } from "./errors.js";
import { workbookSheets, workbookKind } from "./bundle-sheets.js";

/**
 * The order parts are imported in, whatever the file's order: what others
 * reference first (users, courses), then what references them (sessions,
 * enrollments), the activity log (which references sessions) last.
 */
export const DEPENDENCY_ORDER: readonly EntityName[] = ["users", "courses", "sessions", "enrollments", "activity"];

/** One entity's part of a bundle. */
export interface BundlePart {
  entity: EntitySpec;
  /** Its entry in the ZIP (`users.csv`) or its sheet in the workbook (`users`): what row errors name. */
  name: string;
  /** The format it is read with. */
  plugin: FormatPlugin;
  /** A workbook's sheet: the options the part's reader must get (`sheet`), over the caller's. */
  sheet?: string;
  /** Its bytes, from the start, as often as asked (each pass over the bundle reads it again). */
  open(): AsyncIterable<Uint8Array>;
}

export interface BundleArchive {
  container: "workbook" | "zip";
  /** In {@link DEPENDENCY_ORDER}. */
  parts: BundlePart[];
  bytes: number;
  sha256: string;
  /** Removes the spooled file; always called (finally). */
  close(): Promise<void>;
}

export interface OpenBundleOptions {
  /** Loaded plugins by name. */
  plugins: ReadonlyMap<string, FormatPlugin>;
  maxFileBytes: number;
  zipLimits?: ZipLimits;
}

/** The bundle in `input`, or a {@link TransferSettingsError} saying what it holds that cannot be imported. */
export async function openBundle(input: AsyncIterable<Uint8Array>, options: OpenBundleOptions): Promise<BundleArchive> {
  const dir = await mkdtemp(join(tmpdir(), "dx-bundle-"));
  const path = join(dir, "bundle.zip");
  let zip: ZipArchive | undefined;
  const close = async () => {
    await zip?.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const { bytes, sha256 } = await spool(input, path, options.maxFileBytes);
    try {
      zip = await openZip(createReadStream(path), "a bundle (a ZIP of one file per entity, or a workbook with a sheet per entity)", options.zipLimits ?? DEFAULT_ZIP_LIMITS);
    } catch (error) {
      if (error instanceof FormatError) throw refused(`the bundle is refused: ${error.reason}`, "file");
      throw error;
    }
    const kind = workbookKind(zip);
    const parts = kind ? await workbookParts(zip, kind, path, options.plugins) : zipParts(zip, options.plugins);
    if (parts.length === 0) throw refused("the bundle holds no part: name its sheets or files after entities (users, courses, sessions, enrollments, activity)", "file");
    parts.sort((a, b) => DEPENDENCY_ORDER.indexOf(a.entity.name) - DEPENDENCY_ORDER.indexOf(b.entity.name));
    return { container: kind ? "workbook" : "zip", parts, bytes, sha256, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function workbookParts(zip: ZipArchive, kind: "xlsx" | "ods", path: string, plugins: ReadonlyMap<string, FormatPlugin>): Promise<BundlePart[]> {
  const plugin = plugins.get(kind);
  if (!plugin?.read) throw refused(`the bundle is an ${kind.toUpperCase()} workbook, and no loaded format reads ${kind}`, "file");
  const sheets = await workbookSheets(zip, kind);
  const parts: BundlePart[] = [];
  for (const sheet of sheets) {
    const where = `sheet ${JSON.stringify(sheet.name)}`;
    if (sheet.hidden) throw refused(`the workbook's ${where} is hidden: a bundle's sheets are all imported, so unhide it or remove it`, "file");
    const entity = entityNamed(sheet.name.trim().toLowerCase());
    if (!entity) {
      const continued = /^(.+) \(\d+\)$/.exec(sheet.name.trim());
      const more =
        continued && entityNamed(continued[1]!.toLowerCase())
          ? ` (a continuation of ${continued[1]}: a bundle import reads one sheet per entity; import an entity with more rows than a sheet holds as a ZIP of CSV files)`
          : "";
      throw refused(`the workbook's ${where} is not an entity${more}: name each sheet after one of ${ENTITY_NAMES.join(", ")}`, "file");
    }
    refuseRepeated(parts, entity, where);
    parts.push({ entity, name: sheet.name, plugin, sheet: sheet.name, open: () => createReadStream(path) });
  }
  return parts;
}

function zipParts(zip: ZipArchive, plugins: ReadonlyMap<string, FormatPlugin>): BundlePart[] {
  const byExtension = new Map<string, FormatPlugin>();
  for (const plugin of plugins.values()) if (plugin.read) for (const ext of plugin.extensions) if (!byExtension.has(ext)) byExtension.set(ext, plugin);
  const parts: BundlePart[] = [];
  for (const name of zip.names()) {
    const where = `entry ${JSON.stringify(name)}`;
    if (name.includes("/") || name.includes("\\")) throw refused(`the bundle's ${where} is in a folder: a bundle's files are at the top of the ZIP (users.csv, courses.csv, …)`, "file");
    const dot = name.lastIndexOf(".");
    const base = dot > 0 ? name.slice(0, dot) : name;
    const ext = dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
    const entity = entityNamed(base.toLowerCase());
    if (!entity) throw refused(`the bundle's ${where} is not an entity: name each file <entity>.<extension>, the entity one of ${ENTITY_NAMES.join(", ")}`, "file");
    const plugin = byExtension.get(ext);
    if (!plugin)
      throw refused(
        `the bundle's ${where} has ${ext ? `the extension .${ext}, which no loaded format reads` : "no extension to tell its format by"} (formats: ${[...byExtension.keys()].join(", ")})`,
        "file",
      );
    refuseRepeated(parts, entity, where);
    parts.push({ entity, name, plugin, open: () => zip.read(name) });
  }
  return parts;
}

function refuseRepeated(parts: BundlePart[], entity: EntitySpec, where: string): void {
  const earlier = parts.find((p) => p.entity.name === entity.name);
  if (earlier) throw refused(`the bundle holds ${entity.name} twice: ${JSON.stringify(earlier.name)} and ${where}; a bundle has one part per entity`, "file");
}

function entityNamed(name: string): EntitySpec | undefined {
  return (ENTITY_NAMES as string[]).includes(name) ? entitySpec(name) : undefined;
}

function refused(message: string, setting: string): TransferSettingsError {
  return new TransferSettingsError(message, [{ setting, reason: message }]);
}

/** Copies the upload to `path`, hashing it and refusing it past `maxBytes`. */
async function spool(input: AsyncIterable<Uint8Array>, path: string, maxBytes: number): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash("sha256");
  let bytes = 0;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const chunk of input) {
      bytes += chunk.byteLength;
      if (bytes > maxBytes) throw refused(`the bundle is larger than the import size limit of ${maxBytes} bytes`, "file");
      hash.update(chunk);
      yield chunk;
    }
  }
  await pipeline(counted(), createWriteStream(path));
  return { bytes, sha256: hash.digest("hex") };
}
