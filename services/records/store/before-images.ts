/**
 * What an import's writes replaced, kept so that the import can be undone
 * (RevertWrites, revert-writes.ts): for every record a transfer job's
 * WriteRecords calls updated or merged, its stored document as it was just
 * before (its before-image: every field, `_id` and a user's password hash
 * included), and for every record they inserted, that it was new. Each entry
 * also holds the change time the job's write gave the record, which is how a
 * revert tells a record changed again since from one left as the job wrote it.
 *
 * Why here and not in the transfer service's database, as issue 11 first
 * said: the records service owns the records and the personal-data policy,
 * and a user's before-image holds their name and password hash, which the
 * transfer service must never hold.
 *
 * One document per (job, entity, natural key), its `_id` made of the three,
 * so a record the same job writes twice keeps its first before-image (its
 * state before the job) and only the change time moves on. Entries are written
 * before the write they describe is sent, so a write never lands unremembered;
 * those of writes the database then refused are removed ({@link forget}).
 *
 * Kept `RECORDS_REVERT_RETENTION_DAYS` (default 30): `expiresAt`, purged by a
 * TTL index on MongoDB. FerretDB 1.24 has no TTL indexes ("expireAfterSeconds
 * is not implemented"), so there the service purges expired entries itself
 * ({@link purgeExpiredBeforeImages}, at start and hourly), and a revert never
 * uses an expired entry whoever purged it.
 */
import { MongoBulkWriteError, type Collection, type Db, type Document } from "mongodb";
import { keyString, type EntityName, type EntitySpec } from "../../domain/index.js";
import { ensureCollectionIndexes } from "../../shared/mongo/ensure-indexes.js";
import { isFerretDb } from "./server-kind.js";

export const BEFORE_IMAGES = "before_images";

/** Days before-images are kept when the configuration says nothing. */
export const DEFAULT_REVERT_RETENTION_DAYS = 30;

export interface BeforeImageDocument {
  /** `<jobId>/<entity>/<keyString>`: one entry per record and job. */
  _id: string;
  jobId: string;
  entity: EntityName;
  /** The record's natural key parts, in key order. */
  key: string[];
  /** `inserted`: the job created the record; `updated`: it replaced or merged `before`. */
  kind: "inserted" | "updated";
  /** The stored document before the job's first write of it (updated only). */
  before?: Document;
  /** The change time (the entity's `changeField`) the job's last write of the record set. */
  changedAt: Date;
  expiresAt: Date;
  /** When a revert put the record back (or found nothing to do). */
  revertedAt?: Date;
}

/** One write about to be sent, as a before-image entry needs it. */
export interface RememberedWrite {
  key: string[];
  kind: "inserted" | "updated";
  before?: Document;
  changedAt: Date;
}

/** Where a job's writes are remembered: the job and how long to keep them. */
export interface WriteMemory {
  db: Db;
  jobId: string;
  retentionMs: number;
}

export function beforeImages(db: Db): Collection<BeforeImageDocument> {
  return db.collection<BeforeImageDocument>(BEFORE_IMAGES);
}

export function entryId(jobId: string, entity: EntityName, key: readonly string[]): string {
  return `${jobId}/${entity}/${keyString(key)}`;
}

/** At start: the job index, and the TTL index (a plain one on FerretDB, which purges by sweep). */
export async function prepareBeforeImages(db: Db): Promise<void> {
  const ttl = !(await isFerretDb(db));
  await ensureCollectionIndexes(beforeImages(db) as unknown as Collection<Document>, [
    { key: { jobId: 1, entity: 1 }, name: "by_job_entity" },
    ttl ? { key: { expiresAt: 1 }, name: "ttl_expiresAt", expireAfterSeconds: 0 } : { key: { expiresAt: 1 }, name: "by_expiresAt" },
  ]);
}

/**
 * Purges expired entries now and every hour (a timer that keeps no process
 * alive): where the TTL index purges them (MongoDB) this finds nothing; on
 * FerretDB it is the purge. Returns what stops it.
 */
export function purgeExpiredBeforeImagesHourly(db: Db, onError: (error: unknown) => void): () => void {
  const purge = () => void purgeExpiredBeforeImages(db).catch(onError);
  purge();
  const timer = setInterval(purge, 60 * 60 * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/** Deletes the entries whose time is up: FerretDB's stand-in for the TTL index. */
export async function purgeExpiredBeforeImages(db: Db, now = new Date()): Promise<number> {
  const result = await beforeImages(db).deleteMany({ expiresAt: { $lte: now } });
  return result.deletedCount;
}

/**
 * Stores the entries of writes about to be sent, and resolves to the ids of
 * those created now (a record already remembered for this job keeps its first
 * before-image; only its change time and expiry move on) and the expiry.
 */
export async function remember(memory: WriteMemory, spec: EntitySpec, writes: readonly RememberedWrite[], now = new Date()): Promise<{ created: Set<string>; expiresAt: Date }> {
  const expiresAt = new Date(now.getTime() + memory.retentionMs);
  const created = new Set<string>();
  if (writes.length === 0) return { created, expiresAt };
  const docs: BeforeImageDocument[] = writes.map((w) => ({
    _id: entryId(memory.jobId, spec.name, w.key),
    jobId: memory.jobId,
    entity: spec.name,
    key: [...w.key],
    kind: w.kind,
    ...(w.before ? { before: w.before } : {}),
    changedAt: w.changedAt,
    expiresAt,
  }));
  const collection = beforeImages(memory.db);
  const taken = new Set<number>();
  try {
    await collection.insertMany(docs, { ordered: false });
  } catch (error) {
    if (!(error instanceof MongoBulkWriteError)) throw error;
    const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
    for (const e of writeErrors) {
      if (e.code !== 11000) throw error;
      taken.add(e.index);
    }
  }
  for (let i = 0; i < docs.length; i++) {
    const doc = docs[i]!;
    if (!taken.has(i)) {
      created.add(doc._id);
      continue;
    }
    // Written again by the same job: the first before-image stays, the change time is the latest write's.
    await collection.updateOne({ _id: doc._id }, { $set: { changedAt: doc.changedAt, expiresAt } });
  }
  return { created, expiresAt };
}

/** Removes entries created for writes the database then refused: nothing of theirs landed. */
export async function forget(memory: WriteMemory, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await beforeImages(memory.db).deleteMany({ _id: { $in: [...ids] } });
}
