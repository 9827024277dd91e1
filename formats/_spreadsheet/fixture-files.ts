/**
 * Small hand-made XLSX and ODS files for the contract suite's malformed
 * samples (`formats/xlsx|ods/contract-fixtures.ts`): built with the same
 * streaming ZIP writer the plugins use, so the fixtures need nothing the
 * service does not ship.
 */
import { writeZip } from "./zip-writer.js";

async function zipOf(files: Record<string, string>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const entries = (async function* () {
    for (const [name, text] of Object.entries(files)) yield { name, data: Buffer.from(text, "utf8"), store: name === "mimetype" };
  })();
  for await (const chunk of writeZip(entries)) parts.push(chunk);
  return Buffer.concat(parts);
}

const MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';
const REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/** A one-sheet workbook ("Sheet1") whose <sheetData> holds `rows`. */
export function xlsxFixture(rows: string): Promise<Uint8Array> {
  return zipOf({
    "_rels/.rels": `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
    "xl/workbook.xml": `<workbook ${MAIN}><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    "xl/_rels/workbook.xml.rels": `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`,
    "xl/worksheets/sheet1.xml": `<worksheet ${MAIN}><sheetData>${rows}</sheetData></worksheet>`,
  });
}

/** An ODS file whose one table ("Sheet1") holds `rows`. */
export function odsFixture(rows: string): Promise<Uint8Array> {
  return zipOf({
    mimetype: "application/vnd.oasis.opendocument.spreadsheet",
    "content.xml":
      `<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" ` +
      `xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0">` +
      `<office:body><office:spreadsheet><table:table table:name="Sheet1">${rows}</table:table></office:spreadsheet></office:body></office:document-content>`,
  });
}
