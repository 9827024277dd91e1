/**
 * The sheets of a workbook bundle, listed before any is read, so that a
 * sheet the import would not understand refuses the bundle up front (a
 * single import reads one sheet and never needs the list).
 *
 * XLSX lists its sheets in `xl/workbook.xml` (read with the XLSX plugin's own
 * workbook-info, relationships and all). ODS has no such list: its sheets are
 * the `table:table` elements of `content.xml`, so that part is streamed once
 * through the same SAX parser the ODS reader uses, noting each table's name
 * and whether its style hides it; memory stays flat whatever the sheet sizes.
 */
import type { ZipArchive } from "../../../formats/_spreadsheet/zip-reader.js";
import { parseXml } from "../../../formats/_spreadsheet/xml-stream.js";
import { PartNames, readWorkbookInfo } from "../../../formats/xlsx/workbook-info.js";

export interface WorkbookSheet {
  name: string;
  hidden: boolean;
}

/** Which workbook the archive is, by its parts; undefined for a plain ZIP of files. */
export function workbookKind(zip: ZipArchive): "xlsx" | "ods" | undefined {
  const parts = new PartNames(zip.names());
  if (parts.find("[Content_Types].xml") && parts.find("xl/workbook.xml")) return "xlsx";
  if (zip.has("mimetype") && zip.has("content.xml")) return "ods";
  return undefined;
}

/** The workbook's sheets of cells, in order (XLSX chart sheets are not sheets of cells, and are refused by name as any unknown sheet). */
export async function workbookSheets(zip: ZipArchive, kind: "xlsx" | "ods"): Promise<WorkbookSheet[]> {
  if (kind === "xlsx") {
    const info = await readWorkbookInfo(zip, new PartNames(zip.names()));
    return info.sheets.map((s) => ({ name: s.name, hidden: s.state !== "visible" }));
  }
  const sheets: WorkbookSheet[] = [];
  const hiddenStyles = new Set<string>();
  let styleName: string | undefined;
  let depth = 0;
  for await (const _ of parseXml(
    zip.read("content.xml"),
    {
      // The parser closes a self-closing element too, so every table opened is closed once.
      open(name, a) {
        if (name === "table") {
          if (depth === 0) sheets.push({ name: a["table:name"] ?? `Sheet${sheets.length + 1}`, hidden: hiddenStyles.has(a["table:style-name"] ?? "") });
          depth++;
        } else if (depth === 0 && name === "style") styleName = a["style:name"];
        else if (depth === 0 && name === "table-properties" && a["table:display"] === "false" && styleName) hiddenStyles.add(styleName);
      },
      close(name) {
        if (name === "table") depth--;
      },
    },
    "content.xml",
    1024 * 1024,
  ));
  return sheets;
}
