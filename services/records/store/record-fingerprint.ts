/**
 * A 64-bit fingerprint of the fields a write compares, so a re-imported record
 * can be told unchanged without loading the stored one.
 *
 * Two records get the same fingerprint exactly when `sameStoredFields`
 * (batch-writer.ts) would call them equal, up to a 64-bit hash collision:
 * the fields compared are the writable, readable ones (not `createdAt`, not a
 * password), an absent field and `undefined` are the same, dates compare by
 * instant, objects by their keys in any order ({@link sameValue}). A value the
 * canonical form cannot describe exactly (NaN, a BSON type other than the
 * plain ones) gives no fingerprint, and the caller takes the slow path.
 */
import type { EntitySpec } from "../../domain/index.js";
import { digestWord, sha1Digest } from "../../shared/hashing/sha1-words.js";

/** Two 32-bit halves of a 64-bit hash (typed arrays hold them without allocating a BigInt). */
export interface Hash64 {
  hi: number;
  lo: number;
}

/** The hash of a string's SHA-1, first 8 bytes (SHA-1 for speed; nothing here relies on it resisting attacks). */
export function hash64(text: string): Hash64 {
  const digest = sha1Digest(text);
  return { hi: digestWord(digest, 0), lo: digestWord(digest, 1) };
}

/** The fingerprint of a record's compared fields, or undefined when a value has no exact canonical form. */
export function recordFingerprint(spec: EntitySpec, record: Record<string, unknown>): Hash64 | undefined {
  const parts: string[] = [];
  for (const field of spec.fields) {
    if (field.readOnly || field.writeOnly) continue;
    const canonical = canonicalValue(record[field.key]);
    if (canonical === undefined) return undefined;
    parts.push(canonical);
  }
  return hash64(parts.join("\u0000"));
}

/** A string that is equal for two values exactly when `sameValue` says they are equal; undefined when none exists. */
export function canonicalValue(value: unknown): string | undefined {
  if (value === undefined) return "u";
  if (value === null) return "n";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "t" : "f";
    case "number":
      // NaN never equals itself under sameValue: no fingerprint. String(-0) is "0", as -0 === 0.
      return Number.isNaN(value) ? undefined : `#${String(value)}`;
    case "object":
      break;
    default:
      return undefined;
  }
  if (value instanceof Date) {
    const time = value.getTime();
    return Number.isNaN(time) ? undefined : `d${time}`;
  }
  if (Array.isArray(value)) {
    const items: string[] = [];
    for (const item of value) {
      const canonical = canonicalValue(item);
      if (canonical === undefined) return undefined;
      items.push(canonical);
    }
    return `[${items.join(",")}]`;
  }
  const prototype = Object.getPrototypeOf(value);
  // Only plain objects: an ObjectId, a Long or a Binary compares differently under sameValue.
  if (prototype !== Object.prototype && prototype !== null) return undefined;
  const entries: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined) continue;
    const canonical = canonicalValue(item);
    if (canonical === undefined) return undefined;
    entries.push(`${JSON.stringify(key)}:${canonical}`);
  }
  return `{${entries.join(",")}}`;
}
