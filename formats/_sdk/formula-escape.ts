/**
 * Reversible formula-injection escaping for text formats that spreadsheets
 * open (CSV; any plugin whose cells a spreadsheet would evaluate).
 *
 * A spreadsheet evaluates a cell whose text starts with `=`, `+`, `-` or `@`
 * (OWASP "CSV injection"), also after leading white space (LibreOffice and
 * Excel skip it: ` =1+1`, `\n=1+1`), also in the fullwidth and small forms
 * East Asian input methods produce (`＝`, `＋`, `－`, `＠`, `﹦`, `﹢`, `﹣`,
 * `﹫`, which Excel normalises), and a cell that starts with a tab or a
 * carriage return is on OWASP's list too. Such a cell is written with a
 * leading apostrophe, which spreadsheets show as "this is text" and do not
 * display.
 *
 * The escape must not cost the round trip: the reader removes exactly that
 * apostrophe, so an export imports back to the values that were exported.
 * For that to be exact, a value that already starts with apostrophes followed
 * by such a start (`'=x`, a real leading apostrophe) gets one more on write,
 * and the reader removes one: `escapeFormula` adds one apostrophe to every
 * text matching `^'*X`, `unescapeFormula` removes one from every text matching
 * `^'+X` (X: an evaluated start), and the two are inverse for every string.
 */

/** An evaluated start: white space then a formula character, or a tab or CR at the very start. */
const EVALUATED = "(?:\\s*[=+\\-@\\uFF1D\\uFF0B\\uFF0D\\uFF20\\uFE66\\uFE62\\uFE63\\uFE6B]|[\\t\\r])";
const NEEDS_ESCAPE = new RegExp(`^'*${EVALUATED}`);
const ESCAPED = new RegExp(`^'+${EVALUATED}`);

/** The text as a cell a spreadsheet shows instead of evaluating: `'` prefixed when needed. */
export function escapeFormula(text: string): string {
  return NEEDS_ESCAPE.test(text) ? `'${text}` : text;
}

/** The inverse of {@link escapeFormula}: one leading `'` removed where escapeFormula would have added it. */
export function unescapeFormula(text: string): string {
  return text.charCodeAt(0) === 0x27 && ESCAPED.test(text) ? text.slice(1) : text;
}
