/** Small hand-made XLSX and ODS files for reader tests: every part spelled out, zipped with fflate. */
import { strToU8, zipSync, type Zippable } from "fflate";

export function zipOf(files: Record<string, string | Uint8Array>, level: 0 | 6 = 6): Uint8Array {
  const entries: Zippable = {};
  for (const [name, data] of Object.entries(files)) entries[name] = [typeof data === "string" ? strToU8(data) : data, { level }];
  return zipSync(entries);
}

const MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';
const REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/** A workbook whose first sheet is `sheetData` (the inside of <sheetData>); shared strings are the insides of their <si>. */
export function xlsxOf(sheetData: string, parts: { sharedStrings?: string[]; styles?: string; workbookPr?: string; sheets?: string[] } = {}): Uint8Array {
  const sheets = parts.sheets ?? ["Sheet1"];
  const files: Record<string, string> = {
    "[Content_Types].xml": `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
    "_rels/.rels": `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
    "xl/workbook.xml": `<workbook ${MAIN}>${parts.workbookPr ?? ""}<sheets>${sheets.map((n, i) => `<sheet name="${n}" sheetId="${i + 1}" r:id="rId${i + 1}"/>`).join("")}</sheets></workbook>`,
    "xl/_rels/workbook.xml.rels":
      `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
      sheets.map((_, i) => `<Relationship Id="rId${i + 1}" Type="${REL}/worksheet" Target="worksheets/sheet${i + 1}.xml"/>`).join("") +
      `<Relationship Id="rIdS" Type="${REL}/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rIdT" Type="${REL}/styles" Target="styles.xml"/></Relationships>`,
  };
  sheets.forEach((_, i) => (files[`xl/worksheets/sheet${i + 1}.xml`] = `<worksheet ${MAIN}><sheetData>${i === 0 ? sheetData : ""}</sheetData></worksheet>`));
  if (parts.sharedStrings) files["xl/sharedStrings.xml"] = `<sst ${MAIN}>${parts.sharedStrings.map((s) => `<si>${s}</si>`).join("")}</sst>`;
  if (parts.styles) files["xl/styles.xml"] = `<styleSheet ${MAIN}>${parts.styles}</styleSheet>`;
  return zipOf(files);
}

const ODS_NS =
  'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"';

/** An ODS file whose body holds `tables` (whole `<table:table>` elements). */
export function odsOf(tables: string, automaticStyles = "", mimetype = "application/vnd.oasis.opendocument.spreadsheet"): Uint8Array {
  return zipOf({
    mimetype,
    "content.xml": `<?xml version="1.0" encoding="UTF-8"?><office:document-content ${ODS_NS}><office:automatic-styles>${automaticStyles}</office:automatic-styles><office:body><office:spreadsheet>${tables}</office:spreadsheet></office:body></office:document-content>`,
  });
}
