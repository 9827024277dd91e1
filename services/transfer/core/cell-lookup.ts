/**
 * Finding a row's cell by a column name as a person wrote it (in a mapping,
 * or as the header had it): the exact name first, then the same name with
 * case and surrounding spaces ignored, as column matching does everywhere in
 * the import.
 */
export function cellOf(values: Record<string, unknown>, column: string): unknown {
  if (column in values) return values[column];
  const name = column.trim().toLowerCase();
  for (const key in values) if (key.trim().toLowerCase() === name) return values[key];
  return undefined;
}

/**
 * The key of the cell {@link cellOf} finds (an own key only), to look up what
 * the reader says about that cell besides its value (`ReadRow.numberText`).
 */
export function keyOf(values: Record<string, unknown>, column: string): string | undefined {
  if (Object.hasOwn(values, column)) return column;
  const name = column.trim().toLowerCase();
  for (const key in values) if (key.trim().toLowerCase() === name) return key;
  return undefined;
}
