/**
 * Undoing a transfer job's writes to one entity from what before-images.ts
 * remembered of them: each record is put back to its state before the job,
 * or refused with a reason, never overwritten blindly.
 *
 * A record is the job's to undo only while it still carries the change time
 * the job's write gave it: any later write (an edit, another import, a
 * deletion and re-creation) sets another, and then the record is refused
 * ("changed since the import") and left as it is. Every restore and delete
 * is conditional on that change time, so a write that slips in between the
 * check and the revert is never overwritten either.
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
 * Entries are read page by page in `_id` order (no cursor held across the
 * writes), and marked `revertedAt` once their record is settled, so a revert
 * cut off half-way can be run again and goes on where it stopped.
 */
import type { Db, Document } from "mongodb";
import { keyString, type EntitySpec } from "../../domain/index.js";
import { findExisting } from "./batch-writer.js";
import { recordTombstone } from "./change-tracking.js";
import { collectionFor } from "./collections.js";
import { beforeImages, type BeforeImageDocument } from "./before-images.js";
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
  let after: string | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const page = await beforeImages(db)
      .find({ jobId, entity: spec.name, revertedAt: { $exists: false }, ...(after !== undefined ? { _id: { $gt: after } } : {}) })
      .sort({ _id: 1 })
      .limit(REVERT_PAGE)
      .toArray();
    if (page.length === 0) return;
    after = page[page.length - 1]!._id;
    yield await revertPage(db, spec, page, signal);
  }
}

async function revertPage(db: Db, spec: EntitySpec, page: BeforeImageDocument[], signal?: AbortSignal): Promise<RevertBatch> {
  const batch: RevertBatch = { restored: 0, deleted: 0, unchanged: 0, refused: 0, refusals: [] };
  const now = new Date();
  const current = await findExisting(
    db,
    spec,
    page.map((entry) => keyRecord(spec, entry.key)),
  );
  const settled: string[] = [];
  for (const entry of page) {
    signal?.throwIfAborted();
    const result = entry.expiresAt.getTime() <= now.getTime() ? expired(entry) : await revertOne(db, spec, entry, current.get(keyString(entry.key)), now);
    if (result.outcome === "refused") {
      batch.refused++;
      batch.refusals.push({ key: entry.key, code: result.code, reason: result.reason });
    } else {
      batch[result.outcome]++;
      settled.push(entry._id);
    }
  }
  if (settled.length > 0) await beforeImages(db).updateMany({ _id: { $in: settled } }, { $set: { revertedAt: now } });
  return batch;
}

function expired(entry: BeforeImageDocument): Settled {
  return { outcome: "refused", code: "expired", reason: `its before-image expired at ${entry.expiresAt.toISOString()}` };
}

/** One remembered record against its stored document now (undefined: not stored). */
async function revertOne(db: Db, spec: EntitySpec, entry: BeforeImageDocument, doc: Document | undefined, now: Date): Promise<Settled> {
  const field = spec.changeField!;
  const changedSince = (): Settled => ({ outcome: "refused", code: "changed", reason: "changed since the import" });
  if (entry.kind === "inserted") {
    if (!doc) return { outcome: "unchanged" };
    if (!sameTime(doc[field], entry.changedAt)) return changedSince();
    if (spec.appendOnly) return { outcome: "refused", code: "append_only", reason: `${spec.name} is append-only: entries cannot be removed` };
    const referrer = await findReferrer(db, spec, doc);
    if (referrer) return { outcome: "refused", code: "referenced", reason: `${referrer.entity} still reference it by ${referrer.field} "${referrer.value}"` };
    const result = await collectionFor(db, spec).deleteOne({ _id: doc._id, [field]: entry.changedAt });
    if (result.deletedCount !== 1) return changedSince();
    await recordTombstone(db, spec, entry.key, now);
    return { outcome: "deleted" };
  }
  const before = entry.before!;
  if (!doc) return { outcome: "refused", code: "changed", reason: "deleted since the import" };
  if (sameTime(doc[field], before[field])) return { outcome: "unchanged" };
  if (!sameTime(doc[field], entry.changedAt)) return changedSince();
  const { _id, ...restored } = before;
  restored[field] = now;
  try {
    const result = await collectionFor(db, spec).replaceOne({ _id: doc._id, [field]: entry.changedAt }, restored);
    return result.matchedCount === 1 ? { outcome: "restored" } : changedSince();
  } catch (error) {
    if ((error as { code?: number }).code !== 11000) throw error;
    const taken = spec.uniqueFields.filter((f) => before[f] !== doc[f]);
    return { outcome: "refused", code: "duplicate_key", reason: `its former ${taken.join(", ") || "unique value"} is now used by another record` };
  }
}

/** A key's parts as the record findExisting looks up. */
function keyRecord(spec: EntitySpec, key: readonly string[]): Record<string, unknown> {
  if (usesObjectIdKey(spec)) return { id: key[0] };
  return Object.fromEntries(spec.keyFields.map((f, i) => [f, key[i]]));
}

function sameTime(a: unknown, b: unknown): boolean {
  return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
}
