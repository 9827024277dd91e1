/**
 * Undoing a transfer job's writes to one entity from what before-images.ts
 * remembered of them: each record is put back to its state before the job,
 * or refused with a reason, never overwritten blindly.
 *
 * A record is the job's to undo only while it still carries a change time
 * one of the job's writes of it gave it: any later write (an edit, another
 * import, a deletion and re-creation) sets another, and then the record is
 * refused ("changed since the import") and left as it is. Every restore and
 * delete is conditional on that change time, so a write that slips in
 * between the check and the revert is never overwritten either.
 *
 * - inserted by the job: deleted, with a tombstone as DeleteRecord leaves
 *   (so incremental exports of deletions follow), unless other records
 *   reference it (refused: "referenced") or the entity is append-only (the
 *   activity log: refused); already gone: nothing to do.
 * - updated or merged by the job: the before-image replaces it, `_id` and a
 *   user's password hash included, with a new change time (the revert's), so
 *   an incremental export since the import sees the restored values.
 *   Already as before (the job's write never landed): nothing to do.
 *
 * A key the job inserted and then wrote again is in an inserted batch's entry
 * and in an update's (or in two batches' entries): its state before the job
 * is the earliest entry's — the update's before-image then carries the change
 * time of the job's insert, so the record is deleted — and the job's last
 * write of it is the latest's. The update entries go first and settle such
 * keys; the batches then pass them by. ({@link JobInserts} tells the job's
 * inserts by their change times, which it loads once per revert.)
 *
 * Update entries are read page by page in `_id` order, inserted batches one
 * at a time and their keys a page at a time (no cursor held across the
 * writes). What is settled is marked — an update entry `revertedAt`, a
 * batch's key in its `settled`, the batch `revertedAt` once every key is —
 * so a revert cut off half-way, or one that refused records, can be run
 * again and goes on with what is left.
 */
import type { Db, Document, ObjectId } from "mongodb";
import { keyString, type EntitySpec } from "../../domain/index.js";
import { findExisting } from "./batch-writer.js";
import { recordTombstone } from "./change-tracking.js";
import { collectionFor } from "./collections.js";
import { batchKeys, entryId, insertedBatches, updatedRecords, type InsertedBatchDocument, type UpdatedRecordDocument } from "./before-images.js";
import { findReferrer } from "./reference-check.js";
import { usesObjectIdKey } from "./documents.js";

/** Why a record was left as it is: a stable code and the reason in words. */
export type RevertRefusalCode = "changed" | "referenced" | "append_only" | "duplicate_key" | "expired";

export interface RevertRefusal {
  key: string[];
  code: RevertRefusalCode;
  reason: string;
}

/** What one page of remembered records came to. */
export interface RevertBatch {
  restored: number;
  deleted: number;
  unchanged: number;
  refused: number;
  refusals: RevertRefusal[];
}

/** Remembered records settled per page (and per response message). */
export const REVERT_PAGE = 200;

type Settled = { outcome: "restored" | "deleted" | "unchanged" } | { outcome: "refused"; code: RevertRefusalCode; reason: string };

/** Reverts job `jobId`'s writes to `spec`, a page at a time; stops between records when `signal` fires. */
export async function* revertWrites(db: Db, spec: EntitySpec, jobId: string, signal?: AbortSignal): AsyncGenerator<RevertBatch> {
  const inserts = await JobInserts.load(db, spec, jobId);
  let after: string | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const page = await updatedRecords(db)
      .find({ jobId, entity: spec.name, kind: "updated", revertedAt: { $exists: false }, ...(after !== undefined ? { _id: { $gt: after } } : {}) })
      .sort({ _id: 1 })
      .limit(REVERT_PAGE)
      .toArray();
    if (page.length === 0) break;
    after = page[page.length - 1]!._id;
    yield await revertUpdates(db, spec, page, inserts, signal);
  }
  let afterBatch: ObjectId | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const batch = await insertedBatches(db).findOne(
      { jobId, entity: spec.name, kind: "inserted", revertedAt: { $exists: false }, ...(afterBatch ? { _id: { $gt: afterBatch } } : {}) },
      { sort: { _id: 1 } },
    );
    if (!batch) return;
    afterBatch = batch._id;
    const settledBefore = new Set(batch.settled ?? []);
    const left = batchKeys(batch).filter((k) => !settledBefore.has(k));
    let refused = 0;
    for (let start = 0; start < left.length; start += REVERT_PAGE) {
      signal?.throwIfAborted();
      const page = await revertInserts(db, spec, batch, left.slice(start, start + REVERT_PAGE), inserts, signal);
      refused += page.refused;
      yield page;
    }
    if (refused === 0) await insertedBatches(db).updateOne({ _id: batch._id }, { $set: { revertedAt: new Date() } });
  }
}

/** One page of update entries, each against its record now. */
async function revertUpdates(db: Db, spec: EntitySpec, page: UpdatedRecordDocument[], inserts: JobInserts, signal?: AbortSignal): Promise<RevertBatch> {
  const batch = emptyBatch();
  const now = new Date();
  const current = await findExisting(
    db,
    spec,
    page.map((entry) => keyRecord(spec, entry.key)),
  );
  const settled: string[] = [];
  for (const entry of page) {
    signal?.throwIfAborted();
    const key = keyString(entry.key);
    const doc = current.get(key);
    const own = (time: unknown) => sameTime(time, entry.changedAt) || inserts.inserted(key, time);
    let result: Settled;
    if (entry.expiresAt.getTime() <= now.getTime()) result = expired(entry.expiresAt);
    // The job inserted the record before it updated it: before the job, there was none.
    else if (await inserts.inserted(key, entry.before[spec.changeField!])) result = await revertInsert(db, spec, entry.key, doc, own, now);
    else result = await revertUpdate(db, spec, entry.before, doc, own, now);
    count(batch, entry.key, result);
    if (result.outcome !== "refused") settled.push(entry._id);
  }
  if (settled.length > 0) await updatedRecords(db).updateMany({ _id: { $in: settled } }, { $set: { revertedAt: now } });
  return batch;
}

/** One page of an inserted batch's keys, each against its record now. */
async function revertInserts(db: Db, spec: EntitySpec, entry: InsertedBatchDocument, keys: string[], inserts: JobInserts, signal?: AbortSignal): Promise<RevertBatch> {
  const batch = emptyBatch();
  const now = new Date();
  const parts = keys.map((k) => keyParts(spec, k));
  const [current, updated] = await Promise.all([
    findExisting(
      db,
      spec,
      parts.map((key) => keyRecord(spec, key)),
    ),
    inserts.updatedAmong(parts),
  ]);
  const settled: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    signal?.throwIfAborted();
    const key = keys[i]!;
    const doc = current.get(key);
    const time = doc?.[spec.changeField!];
    // Settled with the job's update entry of the same key, or by a later batch of the job that inserted it again.
    if (updated.has(key) || (doc && !sameTime(time, entry.changedAt) && (await inserts.inserted(key, time)))) {
      settled.push(key);
      continue;
    }
    const result = entry.expiresAt.getTime() <= now.getTime() ? expired(entry.expiresAt) : await revertInsert(db, spec, parts[i]!, doc, (t) => sameTime(t, entry.changedAt), now);
    count(batch, parts[i]!, result);
    if (result.outcome !== "refused") settled.push(key);
  }
  if (settled.length > 0) await insertedBatches(db).updateOne({ _id: entry._id }, { $push: { settled: { $each: settled } } });
  return batch;
}

function emptyBatch(): RevertBatch {
  return { restored: 0, deleted: 0, unchanged: 0, refused: 0, refusals: [] };
}

function count(batch: RevertBatch, key: string[], result: Settled): void {
  if (result.outcome === "refused") {
    batch.refused++;
    batch.refusals.push({ key, code: result.code, reason: result.reason });
  } else {
    batch[result.outcome]++;
  }
}

function expired(expiresAt: Date): Settled {
  return { outcome: "refused", code: "expired", reason: `its before-image expired at ${expiresAt.toISOString()}` };
}

/** Whether a change time is one a write of the job's gave the record. */
type OwnWrite = (time: unknown) => boolean | Promise<boolean>;

const changedSince = (): Settled => ({ outcome: "refused", code: "changed", reason: "changed since the import" });

/** A record the job created (undefined: not stored now): deleted, unless changed since, referenced or append-only. */
async function revertInsert(db: Db, spec: EntitySpec, key: string[], doc: Document | undefined, own: OwnWrite, now: Date): Promise<Settled> {
  const field = spec.changeField!;
  if (!doc) return { outcome: "unchanged" };
  if (!(await own(doc[field]))) return changedSince();
  if (spec.appendOnly) return { outcome: "refused", code: "append_only", reason: `${spec.name} is append-only: entries cannot be removed` };
  const referrer = await findReferrer(db, spec, doc);
  if (referrer) return { outcome: "refused", code: "referenced", reason: `${referrer.entity} still reference it by ${referrer.field} "${referrer.value}"` };
  const result = await collectionFor(db, spec).deleteOne({ _id: doc._id, [field]: doc[field] });
  if (result.deletedCount !== 1) return changedSince();
  await recordTombstone(db, spec, key, now);
  return { outcome: "deleted" };
}

/** A record the job replaced or merged into `before` (undefined: not stored now): `before` put back, unless changed since. */
async function revertUpdate(db: Db, spec: EntitySpec, before: Document, doc: Document | undefined, own: OwnWrite, now: Date): Promise<Settled> {
  const field = spec.changeField!;
  if (!doc) return { outcome: "refused", code: "changed", reason: "deleted since the import" };
  if (sameTime(doc[field], before[field])) return { outcome: "unchanged" };
  if (!(await own(doc[field]))) return changedSince();
  const { _id, ...restored } = before;
  restored[field] = now;
  try {
    const result = await collectionFor(db, spec).replaceOne({ _id: doc._id, [field]: doc[field] }, restored);
    return result.matchedCount === 1 ? { outcome: "restored" } : changedSince();
  } catch (error) {
    if ((error as { code?: number }).code !== 11000) throw error;
    const taken = spec.uniqueFields.filter((f) => before[f] !== doc[f]);
    return { outcome: "refused", code: "duplicate_key", reason: `its former ${taken.join(", ") || "unique value"} is now used by another record` };
  }
}

/**
 * The job's inserted batches by change time, to tell whether a record's
 * change time is one of the job's inserts of it: loaded once per revert (a
 * batch's id and time: a few thousand for a million-record import), the keys
 * of a batch only when a time matches, a few batches at a time.
 */
class JobInserts {
  private readonly keysOf = new Map<string, Set<string>>();

  private constructor(
    private readonly db: Db,
    private readonly spec: EntitySpec,
    private readonly jobId: string,
    private readonly byTime: Map<number, ObjectId[]>,
    private readonly hasUpdates: boolean,
  ) {}

  static async load(db: Db, spec: EntitySpec, jobId: string): Promise<JobInserts> {
    const byTime = new Map<number, ObjectId[]>();
    for await (const batch of insertedBatches(db).find({ jobId, entity: spec.name, kind: "inserted" }, { projection: { _id: 1, changedAt: 1 } })) {
      const time = batch.changedAt.getTime();
      byTime.set(time, [...(byTime.get(time) ?? []), batch._id]);
    }
    const hasUpdates = (await updatedRecords(db).findOne({ jobId, entity: spec.name, kind: "updated" }, { projection: { _id: 1 } })) !== null;
    return new JobInserts(db, spec, jobId, byTime, hasUpdates);
  }

  /** Whether one of the job's batches inserted `key` (a keyString), giving it change time `time`. */
  async inserted(key: string, time: unknown): Promise<boolean> {
    if (!(time instanceof Date)) return false;
    for (const id of this.byTime.get(time.getTime()) ?? []) if ((await this.keys(id)).has(key)) return true;
    return false;
  }

  /** Of `keys`, those (as keyStrings) the job also has an update entry of. */
  async updatedAmong(keys: string[][]): Promise<Set<string>> {
    const found = new Set<string>();
    if (!this.hasUpdates) return found;
    const ids = keys.map((key) => entryId(this.jobId, this.spec.name, key));
    for await (const entry of updatedRecords(this.db).find({ _id: { $in: ids } }, { projection: { key: 1 } })) found.add(keyString(entry.key));
    return found;
  }

  private async keys(id: ObjectId): Promise<Set<string>> {
    const cached = this.keysOf.get(id.toHexString());
    if (cached) return cached;
    const batch = await insertedBatches(this.db).findOne({ _id: id }, { projection: { packedKeys: 1, keys: 1 } });
    const keys = new Set(batch ? batchKeys(batch) : []);
    if (this.keysOf.size >= 8) this.keysOf.delete(this.keysOf.keys().next().value!);
    this.keysOf.set(id.toHexString(), keys);
    return keys;
  }
}

/** A keyString (as an inserted batch holds keys) back to its parts. */
function keyParts(spec: EntitySpec, key: string): string[] {
  return spec.keyFields.length === 1 ? [key] : (JSON.parse(key) as string[]);
}

/** A key's parts as the record findExisting looks up. */
function keyRecord(spec: EntitySpec, key: readonly string[]): Record<string, unknown> {
  if (usesObjectIdKey(spec)) return { id: key[0] };
  return Object.fromEntries(spec.keyFields.map((f, i) => [f, key[i]]));
}

function sameTime(a: unknown, b: unknown): boolean {
  return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
}
