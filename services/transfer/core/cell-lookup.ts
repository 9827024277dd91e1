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
