/**
 * The small fixed parts of a workbook we write: content types, relationships,
 * the workbook (sheet list, filter ranges, date system) and the styles.
 *
 * Worksheets are the package's default `.xml` content type, so
 * `[Content_Types].xml` can go first (where tools that sniff OOXML look for
 * it) before we know how many sheets the rows will fill.
 */
import { columnLetters } from "../_spreadsheet/cell-ref.js";
import { escapeXml, escapeXmlAttribute, ooxmlCharEscape } from "../_spreadsheet/xml-escape.js";

const XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/** Style ids (cellXfs indexes) the sheets use. */
export const STYLE = { normal: 0, header: 1, dateTime: 2, boolean: 3 } as const;

/**
 * The format of boolean cells. Excel shows a `t="b"` cell as TRUE/FALSE by
 * itself; LibreOffice shows it as 1/0 unless the cell's format says
 * otherwise (this is the format LibreOffice itself writes for booleans).
 */
export const BOOLEAN_FORMAT = '"TRUE";"TRUE";"FALSE"';

/** The format of timestamp cells: every part shown, milliseconds too, so what a person sees is the value (times are UTC). */
export const DATE_TIME_FORMAT = "yyyy-mm-dd hh:mm:ss.000";

export const contentTypes =
  XML +
  `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
  `<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
  `<Default Extension="xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
  `<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
  `<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>` +
  `<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>` +
  `</Types>`;

export const packageRels =
  XML +
  `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
  `<Relationship Id="rId1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/>` +
  `<Relationship Id="rId2" Type="${REL}/extended-properties" Target="docProps/app.xml"/>` +
  `</Relationships>`;

export const appProps = `${XML}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>Data Exchange</Application></Properties>`;

export const styles =
  XML +
  `<styleSheet xmlns="${MAIN}">` +
  `<numFmts count="2"><numFmt numFmtId="164" formatCode="${DATE_TIME_FORMAT}"/><numFmt numFmtId="165" formatCode="${BOOLEAN_FORMAT.replace(/"/g, "&quot;")}"/></numFmts>` +
  `<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font><font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>` +
  `<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>` +
  `<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
  `<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
  `<cellXfs count="4">` +
  `<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
  `<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>` +
  `<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
  `<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
  `</cellXfs>` +
  `<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>` +
  `</styleSheet>`;

export interface WrittenSheet {
  name: string;
  /** Rows written including the header row. */
  rows: number;
  columns: number;
  /** The first row is a header (it gets the autofilter). */
  header: boolean;
}

export function workbook(sheets: WrittenSheet[]): string {
  const list = sheets.map((s, i) => `<sheet name="${attr(s.name)}" sheetId="${i + 1}" r:id="rId${i + 1}"/>`).join("");
  // Excel keeps an autofilter's range as this hidden name too; without it some versions drop the filter.
  const names = sheets
    .map((s, i) =>
      s.columns > 0 && s.header
        ? `<definedName name="_xlnm._FilterDatabase" localSheetId="${i}" hidden="1">${escapeXml(quoteSheet(s.name), ooxmlCharEscape)}!$A$1:$${columnLetters(s.columns - 1)}$${s.rows}</definedName>`
        : "",
    )
    .join("");
  return (
    XML +
    `<workbook xmlns="${MAIN}" xmlns:r="${REL}">` +
    `<workbookPr date1904="0"/>` +
    `<bookViews><workbookView activeTab="0"/></bookViews>` +
    `<sheets>${list}</sheets>` +
    (names ? `<definedNames>${names}</definedNames>` : "") +
    `</workbook>`
  );
}

export function workbookRels(sheets: WrittenSheet[]): string {
  const rels = sheets.map((_, i) => `<Relationship Id="rId${i + 1}" Type="${REL}/worksheet" Target="worksheets/sheet${i + 1}.xml"/>`).join("");
  return (
    XML +
    `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${rels}` +
    `<Relationship Id="rId${sheets.length + 1}" Type="${REL}/styles" Target="styles.xml"/>` +
    `</Relationships>`
  );
}

/** The sheet up to its first row; `frozen` widths mean a header row (frozen pane), `widths` size the columns. */
export function sheetStart(frozen: number[], selected: boolean, widths: number[]): string {
  const cols = widths.map((w, i) => `<col min="${i + 1}" max="${i + 1}" width="${w}" customWidth="1"/>`).join("");
  return (
    XML +
    `<worksheet xmlns="${MAIN}" xmlns:r="${REL}">` +
    `<sheetViews><sheetView workbookViewId="0"${selected ? ' tabSelected="1"' : ""}>` +
    (frozen.length > 0 ? `<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/>` : "") +
    `</sheetView></sheetViews>` +
    `<sheetFormatPr defaultRowHeight="15"/>` +
    (cols ? `<cols>${cols}</cols>` : "") +
    `<sheetData>`
  );
}

export function sheetEnd(sheet: WrittenSheet): string {
  const filter = sheet.columns > 0 && sheet.header ? `<autoFilter ref="A1:${columnLetters(sheet.columns - 1)}${sheet.rows}"/>` : "";
  return `</sheetData>${filter}</worksheet>`;
}

function attr(text: string): string {
  return escapeXmlAttribute(text, ooxmlCharEscape);
}

/** A sheet name as a formula writes it: quoted when it is not a plain word. */
function quoteSheet(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(name) ? name : `'${name.replace(/'/g, "''")}'`;
}
