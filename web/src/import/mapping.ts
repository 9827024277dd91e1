/**
 * The mapping editor's state: for each of the file's columns, the field it
 * fills, or "" to leave it out on purpose. It starts from the service's
 * suggestions (PreviewImport), and becomes the mappings sent with the
 * preview and the import — every column said, so the service never guesses
 * differently from what the person saw.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { FieldMappingSchema } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { formTransformOf, wireTransformOf, type ColumnTransforms } from "./transforms.js";

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

/**
 * POST /import's `mapping` field (JSON): each column mapped to its field with
 * its transforms in order, or left out on purpose. A column left out keeps
 * no transforms: nothing of it is read.
 */
export function mappingsOf(mapping: ColumnMapping, transforms: ColumnTransforms = {}): { source: string; field?: string; ignore?: boolean; transforms?: Record<string, unknown>[] }[] {
  return Object.entries(mapping).map(([source, field]) => {
    if (!field) return { source, ignore: true };
    const chain = transforms[source] ?? [];
    return chain.length > 0 ? { source, field, transforms: chain.map(formTransformOf) } : { source, field };
  });
}

/** The same mappings as the PreviewImport request's `FieldMapping`s, in the same order (so the service's `mapping[i]` is the i-th column). */
export function wireMappingsOf(mapping: ColumnMapping, transforms: ColumnTransforms = {}): MessageInitShape<typeof FieldMappingSchema>[] {
  return Object.entries(mapping).map(([source, field]) => (field ? { source, field, transforms: (transforms[source] ?? []).map(wireTransformOf) } : { source, ignore: true }));
}

/** Fields that two columns fill: the import would refuse them, so the editor says so first. */
export function duplicateFields(mapping: ColumnMapping): string[] {
  const seen = new Map<string, number>();
  for (const field of Object.values(mapping)) if (field) seen.set(field, (seen.get(field) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([f]) => f);
}
