/**
 * Types for the optional `contract-fixtures.ts` a plugin folder may hold.
 *
 * The shared contract suite derives most checks by itself (round trips, chunk
 * boundaries, size limits); a plugin adds malformed samples only it knows how
 * to produce, with the row numbers a user should see in the error report.
 */
import type { Column } from "./plugin.js";

export interface ContractFixture {
  /** Reads as a sentence: "a row with a missing field is reported and the next row still imports". */
  name: string;
  input: string | Uint8Array;
  /** Plugin options (parsed by the plugin's schema). */
  options?: Record<string, unknown>;
  columns?: Column[];
  /** Number of good rows expected before the end (or before the fatal error). */
  rows: number;
  /** Recoverable row errors, in order. */
  errors: { row: number; line?: number }[];
  /** When set, reading must end with a FormatError at this position. */
  fatal?: { row?: number; line?: number };
}
