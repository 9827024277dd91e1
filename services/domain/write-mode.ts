/**
 * How an import writes a record whose key already exists. One list, so that
 * the HTTP parameter, the pipeline's check, the job record and the wire
 * mapping cannot drift apart.
 */

/** The write modes, the safest first: `insert` never overwrites anything, which is why it is the default. */
export const WRITE_MODES = ["insert", "upsert", "merge", "skip-existing"] as const;

export type WriteMode = (typeof WRITE_MODES)[number];

export function isWriteMode(value: unknown): value is WriteMode {
  return typeof value === "string" && (WRITE_MODES as readonly string[]).includes(value);
}
