/**
 * Finds rows of one file that share a natural key (or a unique field such as
 * a username) with an earlier row, so the later row is reported as
 * `duplicate_in_file` instead of silently overwriting the first one in upsert
 * mode, or failing confusingly in another batch.
 *
 * Memory: the file is never kept, but one entry per distinct key is: a 16-byte
 * SHA-1 prefix held as a one-byte string (~32 bytes with its header) plus a
 * Map slot and the row number, about 60 bytes per key and key space. A
 * million-row users file (email and username) costs about 120 MB. A 128-bit
 * prefix makes a false "duplicate" practically impossible (a collision is
 * expected after ~2^64 keys).
 */
import { createHash } from "node:crypto";
import { keyString, naturalKeyOf, type EntitySpec } from "../../domain/index.js";

export interface DuplicateInFile {
  /** The key field(s) at fault, comma-separated for compound keys. */
  field: string;
  /** The row that first used the key. */
  firstRow: number;
}

export class InFileKeys {
  private readonly seen = new Map<string, number>();

  constructor(private readonly spec: EntitySpec) {}

  /** Number of keys remembered (for tests and memory reports). */
  get size(): number {
    return this.seen.size;
  }

  /**
   * Registers the record's keys for `row`, or returns the first clash. A row
   * the core rejects claims none of its keys; a row the records service
   * rejects later (a missing reference) still holds them, so a later row with
   * the same key is reported as a duplicate of it.
   */
  claim(record: Record<string, unknown>, row: number): DuplicateInFile | undefined {
    const hashes: string[] = [];
    const key = naturalKeyOf(this.spec, record); // an append-only entry has one only when it carries its id (a restore)
    const spaces: [string, string][] = [];
    if (key !== undefined) spaces.push([this.spec.keyFields.join(","), keyString(key)]);
    for (const field of this.spec.uniqueFields) {
      const value = record[field];
      if (typeof value === "string" && value !== "") spaces.push([field, value]);
    }
    for (const [field, value] of spaces) {
      const hash = createHash("sha1").update(field).update("\u0000").update(value).digest().toString("latin1", 0, 16);
      const firstRow = this.seen.get(hash);
      if (firstRow !== undefined) return { field, firstRow };
      hashes.push(hash);
    }
    for (const hash of hashes) this.seen.set(hash, row);
    return undefined;
  }
}
