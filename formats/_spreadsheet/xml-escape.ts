/**
 * Text into XML for the spreadsheet writers.
 *
 * XML 1.0 cannot hold most control characters at all, and a parser turns a
 * raw carriage return into a line feed; a lone UTF-16 surrogate is not a
 * character and would become U+FFFD when encoded. None of these may be
 * changed silently, so: CR is written as `&#13;` (which parsers keep), and
 * what XML cannot hold is handed to `unrepresentable`, which either escapes it
 * (OOXML's `_xHHHH_`) or refuses.
 */

const SPECIAL = /[&<>"\r\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff\ud800-\udfff]|_x[0-9A-Fa-f]{4}_/;
const SPECIAL_ALL = /[&<>"\r]|[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff][\udc00-\udfff]|[\ud800-\udfff]|_x[0-9A-Fa-f]{4}_/g;

/**
 * Escapes `text` for element content or a double-quoted attribute.
 * `unrepresentable(ch)` gives the replacement for a character XML cannot
 * hold; `literalEscape(m)` for a literal `_xHHHH_` (OOXML would decode it).
 */
export function escapeXml(text: string, unrepresentable: (ch: string) => string, literalEscape?: (m: string) => string): string {
  if (!SPECIAL.test(text)) return text;
  return text.replace(SPECIAL_ALL, (m) => {
    switch (m) {
      case "&":
        return "&amp;";
      case "<":
        return "&lt;";
      case ">":
        return "&gt;";
      case '"':
        return "&quot;";
      case "\r":
        return "&#13;";
    }
    if (m.length === 2) return m; // a valid surrogate pair
    if (m.length > 2) return literalEscape ? literalEscape(m) : m;
    return unrepresentable(m);
  });
}

/** As {@link escapeXml}, for an attribute value: line feeds and tabs as references too, which attribute normalization would turn into spaces. */
export function escapeXmlAttribute(text: string, unrepresentable: (ch: string) => string): string {
  const escaped = escapeXml(text, unrepresentable);
  return /[\n\t]/.test(escaped) ? escaped.replace(/\n/g, "&#10;").replace(/\t/g, "&#9;") : escaped;
}

/** OOXML's escape for a character XML cannot hold: `_x0001_` (ECMA-376 ST_Xstring). */
export function ooxmlCharEscape(ch: string): string {
  return `_x${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}_`;
}

/** OOXML's escape for a literal `_x0041_` in text, so that it is not read as an escape: `_x005F_x0041_`. */
export function ooxmlLiteralEscape(m: string): string {
  return `_x005F${m}`;
}

/** Decodes OOXML `_xHHHH_` escapes (Excel writes a carriage return as `_x000D_`). */
export function decodeOoxmlEscapes(text: string): string {
  if (!text.includes("_x")) return text;
  return text.replace(/_x([0-9A-Fa-f]{4})_/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
