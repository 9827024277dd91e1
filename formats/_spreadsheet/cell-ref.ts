/**
 * A1-style cell references, as a spreadsheet user reads and types them.
 */

/** Largest sheet Excel and LibreOffice open: 1,048,576 rows × 16,384 columns (XFD). */
export const MAX_SHEET_ROWS = 1_048_576;
export const MAX_SHEET_COLUMNS = 16_384;

/** 0 → "A", 25 → "Z", 26 → "AA". */
export function columnLetters(index: number): string {
  let s = "";
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

/**
 * "C7" → { col: 2, row: 7 } (column 0-based, row 1-based); `undefined` for
 * anything that is not a plain A1 reference within a sheet's bounds.
 */
export function parseCellRef(ref: string): { col: number; row: number } | undefined {
  let col = 0;
  let i = 0;
  for (; i < ref.length; i++) {
    const c = ref.charCodeAt(i);
    if (c >= 65 && c <= 90) col = col * 26 + (c - 64);
    else if (c >= 97 && c <= 122) col = col * 26 + (c - 96);
    else break;
    if (col > MAX_SHEET_COLUMNS) return undefined;
  }
  if (i === 0 || i === ref.length) return undefined;
  let row = 0;
  for (; i < ref.length; i++) {
    const c = ref.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
    row = row * 10 + (c - 48);
    if (row > MAX_SHEET_ROWS) return undefined;
  }
  return row >= 1 ? { col: col - 1, row } : undefined;
}

/** "Sheet1!C7", or "'My sheet'!C7" when the name needs quoting (as Excel writes it). */
export function cellName(sheet: string, col: number, row: number): string {
  const quoted = /^[A-Za-z_][A-Za-z0-9_.]*$/.test(sheet) ? sheet : `'${sheet.replace(/'/g, "''")}'`;
  return `${quoted}!${columnLetters(col)}${row}`;
}
