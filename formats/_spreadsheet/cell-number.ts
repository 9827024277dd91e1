/**
 * A number cell's value as the file writes it (an XLSX `<v>`, an ODS
 * `office:value`): xsd:double's decimal and exponent forms only. `Number()`
 * alone would also take `""` as 0 and `0x1A` as 26 — a hand-made or damaged
 * file's cell would import as a number it never held.
 */
const XSD_DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The finite number `text` spells, or undefined when it spells none (INF and NaN included). */
export function readCellNumber(text: string): number | undefined {
  const s = text.trim();
  if (!XSD_DECIMAL.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}
