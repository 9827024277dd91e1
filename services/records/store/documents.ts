/**
 * The stored shape of records. A document is the validated record plus `_id`
 * (and a user's password hash). Conversions live here so that `_id` and the
 * hash never leak into a response by accident.
 */
import { ObjectId, type Document } from "mongodb";
import type { EntitySpec } from "../../domain/index.js";
import { InvalidRequestError } from "../errors.js";

/** Stored-only fields that are never returned. */
export const HIDDEN_FIELDS = ["_id", "passwordHash"] as const;

/** The activity log's key is its `_id`, exposed as the hex string `id`. */
export function usesObjectIdKey(spec: EntitySpec): boolean {
  return spec.keyFields.length === 1 && spec.keyFields[0] === "id";
}

/** Turns a stored document into a plain record of readable fields. */
export function documentToRecord(spec: EntitySpec, doc: Document): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  // Keys, not entries: a pair for every field of every record written was 6 % of what the records service allocated an imported row.
  for (const key of Object.keys(doc)) {
    if (key === "_id" || key === "passwordHash" || key === "password") continue;
    record[key] = doc[key];
  }
  if (usesObjectIdKey(spec) && doc._id instanceof ObjectId) record.id = doc._id.toHexString();
  return record;
}

export function parseObjectId(value: string, field = "id"): ObjectId {
  if (!/^[0-9a-fA-F]{24}$/.test(value)) throw new InvalidRequestError(`${field} "${value}" is not a valid id`, [{ field, reason: "must be 24 hexadecimal characters" }]);
  return new ObjectId(value);
}

/** The Mongo filter that selects one record by its natural key parts. */
export function keyFilter(spec: EntitySpec, parts: readonly string[]): Document {
  if (parts.length !== spec.keyFields.length) {
    throw new InvalidRequestError(`a ${spec.name} key has ${spec.keyFields.length} part(s) (${spec.keyFields.join(", ")}), got ${parts.length}`, [
      { field: "key", reason: `expected ${spec.keyFields.join(", ")}` },
    ]);
  }
  if (usesObjectIdKey(spec)) return { _id: parseObjectId(parts[0]!) };
  const filter: Document = {};
  spec.keyFields.forEach((field, i) => {
    filter[field] = field === "email" ? parts[i]!.toLowerCase() : parts[i];
  });
  return filter;
}

/** Deep equality over stored values (dates by instant, objects by keys). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  if (a && b && typeof a === "object" && typeof b === "object" && !(a instanceof Date) && !(b instanceof Date)) {
    const ka = Object.keys(a).filter((k) => (a as Document)[k] !== undefined);
    const kb = Object.keys(b).filter((k) => (b as Document)[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => sameValue((a as Document)[k], (b as Document)[k]));
  }
  return false;
}
