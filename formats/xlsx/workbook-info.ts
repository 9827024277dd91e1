/**
 * What a reader needs to know about a workbook before reading a sheet: its
 * sheets (name, visibility, kind, part), the date system, and where the
 * styles and shared strings are. Found through the package relationships, as
 * OPC says, with the conventional paths as the fallback for files written
 * without them.
 */
import { FormatError } from "@data-exchange/format-sdk";
import type { ZipArchive } from "../_spreadsheet/zip-reader.js";
import { attr, parseXml } from "../_spreadsheet/xml-stream.js";

export interface SheetInfo {
  name: string;
  /** "visible", "hidden" or "veryHidden". */
  state: string;
  /** "worksheet", "chartsheet", "dialogsheet", "macrosheet". */
  kind: string;
  /** Its part in the ZIP archive, undefined when the relationship is missing. */
  part?: string;
}

export interface WorkbookInfo {
  sheets: SheetInfo[];
  date1904: boolean;
  styles?: string;
  sharedStrings?: string;
}

/** Small XML parts are read whole (bounded): relationships, the workbook. */
const SMALL_PART_CHARS = 16 * 1024 * 1024;

export async function readWorkbookInfo(zip: ZipArchive, parts: PartNames): Promise<WorkbookInfo> {
  const rootRels = parts.find("_rels/.rels") ? await readRels(zip, parts.find("_rels/.rels")!, "") : [];
  const office = rootRels.find((r) => r.type.endsWith("/officeDocument"));
  const workbookPart = parts.find(office?.target ?? "xl/workbook.xml") ?? parts.find("xl/workbook.xml");
  if (workbookPart === undefined) throw new FormatError("not an XLSX workbook: the file has no workbook part (xl/workbook.xml)");
  const dir = workbookPart.includes("/") ? workbookPart.slice(0, workbookPart.lastIndexOf("/") + 1) : "";
  const relsPart = parts.find(`${dir}_rels/${workbookPart.slice(dir.length)}.rels`);
  const rels = relsPart ? await readRels(zip, relsPart, dir) : [];
  const byId = new Map(rels.map((r) => [r.id, r]));

  const sheets: SheetInfo[] = [];
  let date1904 = false;
  for await (const _ of parseXml(
    zip.read(workbookPart),
    {
      open(name, a) {
        if (name === "workbookPr") {
          const v = attr(a, "date1904");
          date1904 = v === "1" || v === "true";
        } else if (name === "sheet") {
          const rel = byId.get(attr(a, "id") ?? "");
          const kind = rel ? rel.type.slice(rel.type.lastIndexOf("/") + 1) : "worksheet";
          sheets.push({ name: attr(a, "name") ?? `Sheet${sheets.length + 1}`, state: attr(a, "state") ?? "visible", kind, part: rel ? parts.find(rel.target) : undefined });
        }
      },
    },
    workbookPart,
    SMALL_PART_CHARS,
  ));
  const styles = rels.find((r) => r.type.endsWith("/styles"));
  const strings = rels.find((r) => r.type.endsWith("/sharedStrings"));
  return {
    sheets,
    date1904,
    styles: styles ? parts.find(styles.target) : parts.find(`${dir}styles.xml`),
    sharedStrings: strings ? parts.find(strings.target) : parts.find(`${dir}sharedStrings.xml`),
  };
}

interface Relationship {
  id: string;
  type: string;
  /** Resolved to a path in the archive. */
  target: string;
}

async function readRels(zip: ZipArchive, part: string, baseDir: string): Promise<Relationship[]> {
  const out: Relationship[] = [];
  for await (const _ of parseXml(
    zip.read(part),
    {
      open(name, a) {
        if (name !== "Relationship" || a.TargetMode === "External") return;
        out.push({ id: a.Id ?? "", type: a.Type ?? "", target: resolve(baseDir, a.Target ?? "") });
      },
    },
    part,
    SMALL_PART_CHARS,
  ));
  return out;
}

/** A relationship target relative to the source part's folder ("worksheets/sheet1.xml"), or absolute ("/xl/…"). */
function resolve(baseDir: string, target: string): string {
  const path = target.startsWith("/") ? target.slice(1) : baseDir + target;
  const out: string[] = [];
  for (const seg of path.split("/")) {
    if (seg === "..") out.pop();
    else if (seg !== "." && seg !== "") out.push(seg);
  }
  return out.join("/");
}

/** Part names are case-insensitive in OPC; entries are found whatever their case. */
export class PartNames {
  private readonly byLower = new Map<string, string>();
  constructor(names: string[]) {
    for (const n of names) this.byLower.set(n.toLowerCase(), n);
  }
  find(name: string): string | undefined {
    return this.byLower.get(name.replace(/^\//, "").toLowerCase());
  }
}
