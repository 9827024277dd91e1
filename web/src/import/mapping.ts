/**
 * The mapping editor's state: for each of the file's columns, the field it
 * fills, or "" to leave it out on purpose. It starts from the service's
 * suggestions (PreviewImport), and becomes the mappings sent with the
 * preview and the import — every column said, so the service never guesses
 * differently from what the person saw.
 */

export interface Suggestion {
  column: string;
  field: string;
  matchedBy: string;
}

/** Column → field key, "" for a column left out. */
export type ColumnMapping = Record<string, string>;

/** The suggestions as a mapping: a column without a suggested field starts left out. */
export function initialMapping(columns: readonly string[], suggestions: readonly Suggestion[]): ColumnMapping {
  const suggested = new Map(suggestions.map((s) => [s.column, s.field]));
  return Object.fromEntries(columns.map((c) => [c, suggested.get(c) ?? ""]));
}

/** Keeps what the person chose for columns still in the file; new columns take their suggestion. */
export function mergeMapping(previous: ColumnMapping, columns: readonly string[], suggestions: readonly Suggestion[]): ColumnMapping {
  const fresh = initialMapping(columns, suggestions);
  return Object.fromEntries(columns.map((c) => [c, c in previous ? previous[c]! : fresh[c]!]));
}

/** The mappings of the Import and PreviewImport requests (and of POST /import's `mapping` field). */
export function mappingsOf(mapping: ColumnMapping): { source: string; field?: string; ignore?: boolean }[] {
  return Object.entries(mapping).map(([source, field]) => (field ? { source, field } : { source, ignore: true }));
}

/** Fields that two columns fill: the import would refuse them, so the editor says so first. */
export function duplicateFields(mapping: ColumnMapping): string[] {
  const seen = new Map<string, number>();
  for (const field of Object.values(mapping)) if (field) seen.set(field, (seen.get(field) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([f]) => f);
}
