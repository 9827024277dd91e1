/**
 * The fixed parts of an ODS file we write, and the start and end of
 * `content.xml` around the streamed rows.
 */
import { columnLetters } from "../_spreadsheet/cell-ref.js";
import { escapeXml, escapeXmlAttribute } from "../_spreadsheet/xml-escape.js";
import { ODS_MIME } from "./ods-reader.js";

const XML = '<?xml version="1.0" encoding="UTF-8"?>\n';
const NS =
  'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" ' +
  'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" ' +
  'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" ' +
  'xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" office:version="1.3"';

/** Cell styles in content.xml. */
export const CELL_STYLE = { header: "ce1", dateTime: "ce2" } as const;

export const mimetype = ODS_MIME;

export const manifest =
  XML +
  `<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">` +
  `<manifest:file-entry manifest:full-path="/" manifest:version="1.3" manifest:media-type="${ODS_MIME}"/>` +
  `<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>` +
  `<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>` +
  `<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>` +
  `<manifest:file-entry manifest:full-path="settings.xml" manifest:media-type="text/xml"/>` +
  `</manifest:manifest>`;

export const meta = `${XML}<office:document-meta ${NS}><office:meta><meta:generator>Data Exchange</meta:generator></office:meta></office:document-meta>`;

export const stylesPart = `${XML}<office:document-styles ${NS}><office:styles/></office:document-styles>`;

/** Widths in characters → one column style per distinct width (~0.22 cm a character at 10 pt). */
export function contentStart(widths: number[]): { xml: string; columnStyles: string[] } {
  const distinct = [...new Set(widths)];
  const styleOf = new Map(distinct.map((w, i) => [w, `co${i + 1}`]));
  const columnStyles = widths.map((w) => styleOf.get(w)!);
  const cols = distinct
    .map((w) => `<style:style style:name="${styleOf.get(w)}" style:family="table-column"><style:table-column-properties style:column-width="${(w * 0.22).toFixed(2)}cm"/></style:style>`)
    .join("");
  const xml =
    XML +
    `<office:document-content ${NS}><office:automatic-styles>` +
    `<number:date-style style:name="N1"><number:year number:style="long"/><number:text>-</number:text><number:month number:style="long"/><number:text>-</number:text>` +
    `<number:day number:style="long"/><number:text> </number:text><number:hours number:style="long"/><number:text>:</number:text>` +
    `<number:minutes number:style="long"/><number:text>:</number:text><number:seconds number:style="long" number:decimal-places="3"/></number:date-style>` +
    `<style:style style:name="${CELL_STYLE.header}" style:family="table-cell"><style:text-properties fo:font-weight="bold"/></style:style>` +
    `<style:style style:name="${CELL_STYLE.dateTime}" style:family="table-cell" style:data-style-name="N1"/>` +
    `<style:style style:name="ta1" style:family="table"><style:table-properties table:display="true"/></style:style>` +
    cols +
    `</office:automatic-styles><office:body><office:spreadsheet>`;
  return { xml, columnStyles };
}

export interface OdsSheet {
  name: string;
  rows: number;
  columns: number;
  header: boolean;
}

export function tableStart(name: string, columnStyles: string[]): string {
  return `<table:table table:name="${attr(name)}" table:style-name="ta1">${columnStyles.map((s) => `<table:table-column table:style-name="${s}"/>`).join("")}`;
}

/** After the last table: a filter range on each header (LibreOffice's autofilter). */
export function contentEnd(sheets: OdsSheet[]): string {
  const ranges = sheets
    .map((s, i) =>
      s.header && s.columns > 0 ? `<table:database-range table:name="__Anonymous_Sheet_DB__${i}" table:target-range-address="${attr(rangeAddress(s))}" table:display-filter-buttons="true"/>` : "",
    )
    .join("");
  return `${ranges ? `<table:database-ranges>${ranges}</table:database-ranges>` : ""}</office:spreadsheet></office:body></office:document-content>`;
}

/** settings.xml: the header row frozen on every sheet (LibreOffice keeps panes here, per sheet). */
export function settings(sheets: OdsSheet[]): string {
  const item = (name: string, type: string, value: string | number) => `<config:config-item config:name="${name}" config:type="${type}">${value}</config:config-item>`;
  const tables = sheets
    .filter((s) => s.header)
    .map(
      (s) =>
        `<config:config-item-map-entry config:name="${attr(s.name)}">` +
        item("VerticalSplitMode", "short", 2) +
        item("VerticalSplitPosition", "int", 1) +
        item("ActiveSplitRange", "short", 2) +
        item("PositionBottom", "int", 1) +
        `</config:config-item-map-entry>`,
    )
    .join("");
  return (
    XML +
    `<office:document-settings ${NS}><office:settings><config:config-item-set config:name="ooo:view-settings"><config:config-item-map-indexed config:name="Views"><config:config-item-map-entry>` +
    item("ViewId", "string", "view1") +
    `<config:config-item-map-named config:name="Tables">${tables}</config:config-item-map-named>` +
    `</config:config-item-map-entry></config:config-item-map-indexed></config:config-item-set></office:settings></office:document-settings>`
  );
}

function rangeAddress(s: OdsSheet): string {
  const quoted = `'${s.name.replace(/'/g, "''")}'`;
  return `${quoted}.A1:${quoted}.${columnLetters(s.columns - 1)}${s.rows}`;
}

/** Text for an attribute value; throws for characters XML cannot hold. */
export function attr(text: string): string {
  return escapeXmlAttribute(text, unrepresentable);
}

/** Text for element content; throws for characters XML cannot hold. */
export function content(text: string): string {
  return escapeXml(text, unrepresentable);
}

function unrepresentable(ch: string): never {
  throw new Error(`the character U+${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")} cannot be written to an ODS file`);
}
