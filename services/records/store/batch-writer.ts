/**
 * Writes one batch of records by natural key, with a result for every record.
 *
 * There are no transactions (FerretDB has none, and a sharded MongoDB makes
 * them costly), so a batch is planned before anything is written: validate
 * every record, find duplicates inside the batch, check references and look
 * up existing records with a few `$in` queries, decide per record what to do,
 * then send one bulk write. The unique indexes catch what a concurrent writer
 * slipped in between planning and writing; those failures are mapped back to
 * the record that caused them.
 */
import { ObjectId, type AnyBulkWriteOperation, type Db, type Document } from "mongodb";
import { keyString, naturalKeyOf, naturalKeyString, validateRecord, type EntitySpec, type FieldIssue } from "../../domain/index.js";
import { OperationNotAllowedError } from "../errors.js";
import { hashPassword, verifyPassword } from "../password-hash.js";
import { collectionFor } from "./collections.js";
import { findByPoints } from "./point-lookups.js";
import { documentToRecord, sameValue, usesObjectIdKey } from "./documents.js";
import { retryTransient } from "../../shared/mongo/transient-retry.js";
import { turnSpent, yieldTurn } from "../../shared/process/turn-budget.js";
import { sendWrites } from "./send-writes.js";
import { findMissingReferences, type ReferenceCache } from "./reference-check.js";
import type { StoredFingerprints } from "./stored-fingerprints.js";
import { entryId, forget, remember, type Remembered, type RememberedBatch, type WriteMemory } from "./before-images.js";

export type WriteMode = "insert" | "upsert" | "merge" | "skip-existing";

export interface WriteOptions {
  mode: WriteMode;
  dryRun: boolean;
  /** Stop at the first failing record; later records are not attempted. */
  ordered: boolean;
  /** References already seen to exist during this stream of batches. */
  referenceCache?: ReferenceCache;
  /**
   * The stream's stored fingerprints, where look-ups are full scans (FerretDB): a record stored exactly as
   * it is sent is then decided without a look-up (stored-fingerprints.ts).
   */
  storedFingerprints?: StoredFingerprints;
  /** Internal: plan from look-ups even where an optimistic insert would do (the retry of an optimistic upsert). */
  lookUpFirst?: boolean;
  /**
   * The transfer job these writes belong to: each record about to be inserted
   * or changed is remembered first (before-images.ts), so RevertWrites can
   * undo the job. Absent for writes made for no job (PutRecord, a direct caller).
   */
  memory?: WriteMemory;
}

export type ErrorCode = "invalid" | "duplicate_key" | "exists" | "missing_reference" | "not_attempted" | "internal";

export interface RecordError {
  index: number;
  field: string;
  reason: string;
  code: ErrorCode;
}

export type Outcome = "inserted" | "updated" | "unchanged" | "skipped";

export interface BatchResult {
  inserted: number;
  updated: number;
  unchanged: number;
  skipped: number;
  failed: number;
  errors: RecordError[];
  /** Per record: what happened, or undefined when it failed. */
  outcomes: (Outcome | undefined)[];
  /** Per record: the stored record after the write (for single-record RPCs). */
  stored: (Record<string, unknown> | undefined)[];
  /** With `memory`, when this batch remembered writes: until when they can be reverted. */
  revertibleUntil?: Date;
}

interface Planned {
  index: number;
  outcome: Outcome;
  op?: AnyBulkWriteOperation<Document>;
  stored: Record<string, unknown>;
  /** A password to hash into the operation before it is sent. */
  password?: string;
  /** The stored document an update replaces or merges into: its before-image. */
  before?: Document;
}

/** Plans, remembers and writes one batch: {@link prepareBatch}, then {@link sendBatch}. */
export async function writeBatch(db: Db, spec: EntitySpec, records: Record<string, unknown>[], options: WriteOptions): Promise<BatchResult> {
  return sendBatch(await prepareBatch(db, spec, records, options));
}

/**
 * Whether a batch is planned from its records alone, reading nothing of its
 * own collection: inserts, and unordered upserts and skip-existing writes,
 * are sent as inserts and only what the unique indexes refuse is looked up
 * when it is sent (step 3). Such a batch can be prepared while the batch
 * before it is still being written (records-service.ts, WriteRecords), as
 * long as the stream's stored fingerprints cannot decide one of its records
 * on a key the batch before it writes: they learn that batch's writes only
 * once it is written.
 */
export function plannedFromRecordsAlone(options: Pick<WriteOptions, "mode" | "dryRun" | "ordered" | "lookUpFirst">): boolean {
  if (options.dryRun || options.lookUpFirst) return false;
  return options.mode === "insert" || (!options.ordered && (options.mode === "upsert" || options.mode === "skip-existing"));
}

/**
 * A batch planned — validated, references checked, each record's write
 * decided, passwords hashed and, for a job, the writes remembered
 * (before-images.ts) — but not yet sent: {@link sendBatch} writes it,
 * {@link discardBatch} takes back what was remembered when it will not be.
 */
export interface PreparedBatch {
  readonly db: Db;
  readonly spec: EntitySpec;
  readonly records: Record<string, unknown>[];
  readonly options: WriteOptions;
  readonly errors: Map<number, RecordError[]>;
  readonly plans: Map<number, Planned>;
  /** Ordered batches: the first failing record; nothing from it on is written. */
  readonly cutoff: number;
  /** Planned writes that send something, in record order (none in a dry run). */
  readonly withOps: Planned[];
  /** What was remembered for a job's writes, and by which write. */
  readonly memory?: { planned: ReturnType<typeof plannedMemory>; remembered: Remembered };
}

/** Steps 1–6 of a batch: validate, find duplicates, look up, plan, and what must precede its writes (new passwords hashed, a job's writes remembered). */
export async function prepareBatch(db: Db, spec: EntitySpec, records: Record<string, unknown>[], options: WriteOptions): Promise<PreparedBatch> {
  if (spec.appendOnly && options.mode !== "insert") {
    throw new OperationNotAllowedError(`${spec.name} is append-only: only insert mode is allowed, not ${options.mode}`);
  }
  const errors = new Map<number, RecordError[]>();
  const fail = (index: number, code: ErrorCode, issues: FieldIssue[]) => {
    const list = errors.get(index) ?? [];
    for (const issue of issues) list.push({ index, code, field: issue.field, reason: issue.reason });
    errors.set(index, list);
  };

  // 1. Validate each record on its own. Validating and planning hundreds of records takes
  // several ms: the event loop turns between them (turn-budget.ts).
  const valid = new Map<number, Record<string, unknown>>();
  for (let index = 0; index < records.length; index++) {
    if (turnSpent()) await yieldTurn();
    const result = validateRecord(spec, records[index]!, { completeness: options.mode === "merge" ? "partial" : "full" });
    if (!result.ok) {
      fail(index, "invalid", result.issues);
      continue;
    }
    if (options.mode === "merge" && !spec.appendOnly && !naturalKeyOf(spec, result.value)) {
      fail(
        index,
        "invalid",
        spec.keyFields.filter((k) => result.value[k] === undefined).map((k) => ({ field: k, reason: "is required" })),
      );
      continue;
    }
    valid.set(index, result.value);
  }

  // 2. Duplicates inside the batch: the first occurrence wins.
  const seen = new Map<string, number>();
  const uniqueSeen = new Map<string, Map<string, number>>();
  for (const [index, record] of valid) {
    // An append-only entry has a key only when it carries its id (a restore).
    const k = naturalKeyString(spec, record);
    if (k !== undefined) {
      const first = seen.get(k);
      if (first !== undefined) {
        fail(index, "duplicate_key", [{ field: spec.keyFields.join(","), reason: `duplicates the key of record ${first} in this batch` }]);
        valid.delete(index);
        continue;
      }
      seen.set(k, index);
    }
    for (const field of spec.uniqueFields) {
      const value = record[field];
      if (typeof value !== "string") continue;
      const byValue = uniqueSeen.get(field) ?? new Map<string, number>();
      uniqueSeen.set(field, byValue);
      const first = byValue.get(value);
      if (first !== undefined) {
        fail(index, "duplicate_key", [{ field, reason: `"${value}" is also used by record ${first} in this batch` }]);
        valid.delete(index);
        continue;
      }
      byValue.set(value, index);
    }
  }

  // 3. References and existing records, with a few batched look-ups. Inserts
  // skip the existence look-up: they are sent as they are and the unique
  // indexes report existing keys, which is far cheaper than a look-up on
  // servers that scan for `$in` (FerretDB does). Ordered skip-existing batches
  // cannot: a skipped record would stop an ordered insert.
  // Unordered upserts go the same way: most imported keys are new, so every record is sent as
  // an insert, and only those the unique indexes refuse are looked up and planned again (step 7).
  const optimistic = plannedFromRecordsAlone(options);
  // Records stored exactly as sent need no look-up when the stream knows the stored fingerprints.
  const storedAsIs = await recordsStoredAsIs(db, spec, valid, options, optimistic);
  const toLookUp = [...valid].filter(([index]) => !storedAsIs.has(index)).map(([, record]) => record);
  // Reads, so a transient failure (a reset connection, a stepdown) is simply tried again.
  const lookUp = !optimistic && toLookUp.length > 0;
  const [missing, existing, uniqueOwners] = await retryTransient(() =>
    Promise.all([
      findMissingReferences(db, spec, [...valid.values()], options.referenceCache),
      // Owners of unique values after the existing records: a value a record's own stored version holds needs no look-up.
      (lookUp ? findStored(db, spec, toLookUp, options.storedFingerprints) : Promise.resolve(new Map<string, Document>())).then(
        async (found) => [found, lookUp ? await findUniqueOwners(db, spec, toLookUp, found) : new Map<string, Map<string, string>>()] as const,
      ),
    ]).then(([refs, [found, owners]]) => [refs, found, owners] as const),
  );

  // 4. Plan each record. A password sent again for an existing record is checked against its
  // stored hash first (in parallel, off the event loop): the same password is no change.
  const samePassword = await unchangedPasswords(spec, valid, existing);
  const plans = new Map<number, Planned>();
  const now = new Date();
  const hasField = (key: string) => spec.fields.some((f) => f.key === key);
  for (const [index, record] of valid) {
    if (turnSpent()) await yieldTurn();
    const refIssues = missing(record);
    if (refIssues.length > 0) {
      fail(index, "missing_reference", refIssues);
      continue;
    }
    if (storedAsIs.has(index)) {
      plans.set(index, { index, outcome: options.mode === "skip-existing" ? "skipped" : "unchanged", stored: record });
      continue;
    }
    const k = naturalKeyString(spec, record);
    const current = k !== undefined ? existing.get(k) : undefined;
    const conflict = uniqueConflict(spec, record, current, uniqueOwners);
    if (conflict) {
      fail(index, "duplicate_key", [conflict]);
      continue;
    }
    const { password, ...fields } = record as Record<string, unknown> & { password?: string };
    if (!current) {
      if (options.mode === "merge") {
        const full = validateRecord(spec, record, { completeness: "full" });
        if (!full.ok) {
          fail(index, "invalid", full.issues);
          continue;
        }
      }
      const doc: Record<string, unknown> = { ...spec.defaults?.(), ...fields };
      if (usesObjectIdKey(spec) && typeof doc.id === "string") {
        // A restored log entry keeps its id.
        doc._id = new ObjectId(doc.id);
        delete doc.id;
      }
      if (hasField("createdAt") && doc.createdAt === undefined) doc.createdAt = now;
      if (spec.changeField) doc[spec.changeField] = now;
      plans.set(index, { index, outcome: "inserted", op: { insertOne: { document: doc } }, stored: documentToRecord(spec, doc), password });
      continue;
    }
    if (options.mode === "insert") {
      if (spec.appendOnly) {
        // Restoring the log again: an entry already there with the same values is unchanged.
        const entry = restoredEntry(spec, index, fields, current);
        if (entry.ok) plans.set(index, entry.plan);
        else fail(index, "exists", [entry.issue]);
        continue;
      }
      fail(index, "exists", [{ field: spec.keyFields.join(","), reason: `a record with ${describeKey(spec, naturalKeyOf(spec, record)!)} already exists` }]);
      continue;
    }
    if (options.mode === "skip-existing") {
      plans.set(index, { index, outcome: "skipped", stored: documentToRecord(spec, current) });
      continue;
    }
    const before = documentToRecord(spec, current);
    let after: Record<string, unknown>;
    if (options.mode === "merge") {
      after = { ...before, ...fields };
      const full = validateRecord(spec, after, { completeness: "full" });
      if (!full.ok) {
        fail(index, "invalid", full.issues);
        continue;
      }
    } else {
      // A replacement keeps what the caller cannot be expected to resend: the
      // creation time, and fields with defaults (an existing value wins).
      after = { ...fields };
      const defaults: Record<string, unknown> = { ...spec.defaults?.(), ...(hasField("createdAt") ? { createdAt: now } : {}) };
      for (const [field, value] of Object.entries(defaults)) if (after[field] === undefined) after[field] = before[field] ?? value;
    }
    const newPassword = password !== undefined && !samePassword.has(index) ? password : undefined;
    const changed = newPassword !== undefined || !sameStoredFields(spec, before, after);
    if (!changed) {
      plans.set(index, { index, outcome: "unchanged", stored: before });
      continue;
    }
    if (spec.changeField) after[spec.changeField] = now;
    const op: AnyBulkWriteOperation<Document> =
      options.mode === "merge"
        ? { updateOne: { filter: { _id: current._id }, update: { $set: { ...fields, ...(spec.changeField ? { [spec.changeField]: now } : {}) } } } }
        : { replaceOne: { filter: { _id: current._id }, replacement: { ...after, ...(current.passwordHash ? { passwordHash: current.passwordHash } : {}) } } };
    plans.set(index, { index, outcome: "updated", op, stored: after, password: newPassword, before: current });
  }

  // 5. Ordered batches stop at the first failing record.
  let cutoff = records.length;
  if (options.ordered) {
    const firstFailure = Math.min(...errors.keys());
    if (Number.isFinite(firstFailure)) cutoff = firstFailure;
  }
  const toWrite = [...plans.values()].filter((p) => p.index < cutoff).sort((a, b) => a.index - b.index);

  // 6. What must precede the writes (unless this is a dry run): new passwords hashed, a job's writes remembered.
  const withOps = options.dryRun ? [] : toWrite.filter((p) => p.op);
  await Promise.all(withOps.filter((p) => p.password !== undefined).map(async (p) => attachPasswordHash(p, await hashPassword(p.password!))));
  // Remembered before they are sent, so that no write of a job lands unremembered (before-images.ts).
  const memory = options.memory;
  const planned = memory && withOps.length > 0 ? plannedMemory(memory, spec, withOps) : undefined;
  const remembered = planned ? await retryTransient(() => remember(memory!, spec, planned.batch, now)) : undefined;
  return { db, spec, records, options, errors, plans, cutoff, withOps, ...(planned && remembered ? { memory: { planned, remembered } } : {}) };
}

/**
 * Takes back what {@link prepareBatch} remembered for a batch that will not
 * be sent (its stream ended before it was): its writes never land, so no
 * revert should look for them.
 */
export async function discardBatch(batch: PreparedBatch): Promise<void> {
  await forgetWrites(
    batch,
    batch.withOps.map((_, i) => i),
  );
}

/** Takes back what was remembered for the writes at `indexes` of `withOps` (none of them landed), if anything was. */
async function forgetWrites(batch: PreparedBatch, indexes: readonly number[]): Promise<void> {
  const memory = batch.options.memory;
  if (!memory || !batch.memory || indexes.length === 0) return;
  const { planned, remembered } = batch.memory;
  const insertedKeys = new Set(indexes.map((i) => planned.insertedKeys[i]).filter((k): k is string => k !== undefined));
  const updateIds = indexes.map((i) => planned.updateIds[i]).filter((id): id is string => id !== undefined);
  await retryTransient(() => forget(memory, remembered, { insertedKeys, updateIds }));
}

/** Steps 7 and 8 of a prepared batch: send its writes (unless it is a dry run), then report every record. */
export async function sendBatch(batch: PreparedBatch): Promise<BatchResult> {
  const { db, spec, records, options, errors, plans, cutoff, withOps } = batch;
  // 7. Write.
  const writeFailures = new Map<number, RecordError>();
  let stopAt = cutoff;
  const revertibleUntil = batch.memory?.remembered.expiresAt;
  if (withOps.length > 0) {
    // Refused writes only: a batch cut off by the database going away is settled or thrown (send-writes.ts).
    const refusals = await sendWrites(
      collectionFor(db, spec),
      withOps.map((p) => p.op!),
      options.ordered,
    );
    // Nothing of a refused write landed: its entry (or its key in the inserts' entry) goes, before a replanned write of the same record remembers it anew.
    await forgetWrites(
      batch,
      refusals.map((r) => r.index),
    );
    if (refusals.length > 0) {
      const duplicates: Planned[] = [];
      for (const refusal of refusals) {
        const plan = withOps[refusal.index];
        if (!plan) continue;
        if (refusal.code === 11000) {
          duplicates.push(plan);
          continue;
        }
        writeFailures.set(plan.index, { index: plan.index, code: "internal", field: "", reason: `the database refused the write: ${refusal.errmsg ?? "unknown error"}` });
      }
      if (options.mode === "upsert" && plannedFromRecordsAlone(options)) await replanRefused(db, spec, records, duplicates, options, plans, errors);
      else await explainDuplicates(db, spec, duplicates, options.mode, writeFailures, plans);
      // Many existing keys in an unordered skip-existing import: later batches skip the records stored as
      // they are sent without sending them. One pass over the collection costs less than the refused
      // inserts it saves, even where a refusal needs no look-up to explain (no unique field besides the
      // key): sessions stored as sent, 1 December 2026, re-imported in skip-existing mode at 3.9–4.4k
      // rows/s on FerretDB/SQLite and 1.0k on PostgreSQL by refused inserts, in upsert mode (the pass)
      // at 4.9–5.0k and 2.3–2.5k (bench section reimport).
      const fingerprints = options.storedFingerprints;
      if (options.mode === "skip-existing" && fingerprints?.worthLoading(spec, duplicates.length)) fingerprints.start(db, spec);
      if (options.ordered && writeFailures.size > 0) stopAt = Math.min(stopAt, ...writeFailures.keys());
    }
  }

  // 8. Results, in record order.
  const result: BatchResult = { inserted: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0, errors: [], outcomes: [], stored: [], ...(revertibleUntil ? { revertibleUntil } : {}) };
  for (let index = 0; index < records.length; index++) {
    const plan = plans.get(index);
    const recordErrors = errors.get(index);
    const writeFailure = writeFailures.get(index);
    if (recordErrors) {
      result.errors.push(...recordErrors);
    } else if (writeFailure) {
      result.errors.push(writeFailure);
    } else if (options.ordered && index > stopAt) {
      result.errors.push({ index, code: "not_attempted", field: "", reason: "not attempted: an earlier record in this ordered batch failed" });
    } else if (plan) {
      result[plan.outcome]++;
      result.outcomes[index] = plan.outcome;
      result.stored[index] = plan.stored;
      continue;
    }
    result.failed++;
    result.outcomes[index] = undefined;
  }

  // What this batch stored — exactly the records answered inserted or updated — is what later batches compare with.
  if (!options.dryRun && options.storedFingerprints) {
    result.outcomes.forEach((outcome, index) => {
      if (outcome === "inserted" || outcome === "updated") options.storedFingerprints!.written(spec, result.stored[index]!);
    });
  }
  return result;
}

/**
 * What a job's planned writes leave in memory (before-images.ts): the keys
 * of the inserts (their natural key, or for an activity entry the `_id`
 * chosen here, the one send-writes.ts then keeps) for the batch's one entry,
 * and each update with the stored document it replaces. `insertedKeys` and
 * `updateIds` say, by a write's index in `withOps`, what to take back when
 * the database refuses it.
 */
function plannedMemory(memory: WriteMemory, spec: EntitySpec, withOps: Planned[]): { batch: RememberedBatch; insertedKeys: (string | undefined)[]; updateIds: (string | undefined)[] } {
  const batch: RememberedBatch = { batchId: new ObjectId(), inserted: [], updated: [] };
  const insertedKeys: (string | undefined)[] = [];
  const updateIds: (string | undefined)[] = [];
  withOps.forEach((plan, i) => {
    const op = plan.op as Document;
    if (op.insertOne) {
      const doc = op.insertOne.document as Document;
      doc._id ??= new ObjectId();
      const key = usesObjectIdKey(spec) ? [(doc._id as ObjectId).toHexString()] : naturalKeyOf(spec, plan.stored)!;
      batch.inserted.push(key);
      insertedKeys[i] = keyString(key);
      return;
    }
    const key = naturalKeyOf(spec, plan.stored)!;
    batch.updated.push({ key, before: plan.before! });
    updateIds[i] = entryId(memory.jobId, spec.name, key);
  });
  return { batch, insertedKeys, updateIds };
}

/**
 * The indexes of records the stream's stored fingerprints show stored exactly
 * as sent (loading them first when this batch would otherwise look up many
 * records). Only where the outcome needs nothing else from the stored record:
 * upsert, merge and skip-existing, no password to compare, and in upsert
 * mode every field with a default given (a replacement keeps the stored value
 * of one left out); a merge record must also be complete and valid on its own,
 * which it would have to be as merged.
 */
async function recordsStoredAsIs(db: Db, spec: EntitySpec, valid: Map<number, Record<string, unknown>>, options: WriteOptions, optimistic: boolean): Promise<Set<number>> {
  const same = new Set<number>();
  const fingerprints = options.storedFingerprints;
  if (!fingerprints || spec.appendOnly || options.mode === "insert") return same;
  if (!fingerprints.isLoaded(spec)) {
    if (!fingerprints.isLoading(spec)) {
      if (optimistic || !fingerprints.worthLoading(spec, valid.size)) return same;
      fingerprints.start(db, spec);
    }
    // The pass runs beside the stream: this batch waits only until its own keys have been read.
    await fingerprints.whenRead(spec, valid.values());
  }
  // A replacement keeps the stored value of these when the record leaves them out (step 4).
  const defaulted = [...Object.keys(spec.defaults?.() ?? {}), ...(spec.fields.some((f) => f.key === "createdAt") ? ["createdAt"] : [])];
  for (const [index, record] of valid) {
    if (record.password !== undefined) continue;
    if (options.mode === "upsert" && defaulted.some((field) => record[field] === undefined)) continue;
    if (options.mode === "merge" && !validateRecord(spec, record, { completeness: "full" }).ok) continue;
    if (fingerprints.isStoredAsIs(spec, record)) same.add(index);
  }
  return same;
}

/** An append-only entry written again under its id: unchanged when its values are those stored, else an issue. */
function restoredEntry(spec: EntitySpec, index: number, fields: Record<string, unknown>, current: Document): { ok: true; plan: Planned } | { ok: false; issue: FieldIssue } {
  const before = documentToRecord(spec, current);
  if (sameStoredFields(spec, before, fields)) return { ok: true, plan: { index, outcome: "unchanged", stored: before } };
  const differ = spec.fields.filter((f) => !f.readOnly && !f.writeOnly && !sameValue(before[f.key], fields[f.key])).map((f) => f.key);
  return { ok: false, issue: { field: "id", reason: `entry ${String(before.id)} is already in the log with other values (${differ.join(", ")}); the log is append-only, so it cannot be changed` } };
}

/**
 * Indexes of records whose password is the one already stored (verified
 * against the scrypt hash), so that sending it again is "unchanged" rather
 * than "updated". Each check costs what hashing a new one does, on libuv's
 * thread pool, and only records that send a password to an existing record
 * with a hash are checked.
 */
async function unchangedPasswords(spec: EntitySpec, valid: Map<number, Record<string, unknown>>, existing: Map<string, Document>): Promise<Set<number>> {
  const same = new Set<number>();
  if (existing.size === 0) return same;
  const checks: Promise<void>[] = [];
  for (const [index, record] of valid) {
    if (typeof record.password !== "string") continue;
    const key = naturalKeyString(spec, record);
    const hash = key !== undefined ? existing.get(key)?.passwordHash : undefined;
    if (typeof hash !== "string") continue;
    checks.push(verifyPassword(record.password, hash).then((ok) => void (ok && same.add(index))));
  }
  await Promise.all(checks);
  return same;
}

function attachPasswordHash(plan: Planned, hash: string): void {
  const op = plan.op as Document;
  if (op.insertOne) op.insertOne.document.passwordHash = hash;
  else if (op.replaceOne) op.replaceOne.replacement.passwordHash = hash;
  else if (op.updateOne) op.updateOne.update.$set.passwordHash = hash;
}

function describeKey(spec: EntitySpec, key: string[]): string {
  return spec.keyFields.map((f, i) => `${f} "${key[i]}"`).join(" and ");
}

function sameStoredFields(spec: EntitySpec, before: Record<string, unknown>, after: Record<string, unknown>): boolean {
  for (const field of spec.fields) {
    if (field.readOnly || field.writeOnly) continue;
    if (!sameValue(before[field.key], after[field.key])) return false;
  }
  return true;
}

/**
 * Loads the existing records for the batch's keys, keyed by keyString: one
 * `$in` per key field (a long `$or` is slow on some servers, and the `$in`
 * over-fetch for compound keys is small), or each key by equality where the
 * server evaluates equality but not `$in` (point-lookups.ts).
 */
export async function findExisting(db: Db, spec: EntitySpec, records: Record<string, unknown>[]): Promise<Map<string, Document>> {
  const found = new Map<string, Document>();
  if (records.length === 0) return found;
  const keys = records.map((r) => naturalKeyOf(spec, r)).filter((k): k is string[] => k !== undefined);
  if (keys.length === 0) return found;
  const collection = collectionFor(db, spec);
  if (usesObjectIdKey(spec)) {
    const ids = [...new Set(keys.map((k) => k[0]!))].map((id) => new ObjectId(id));
    for (const doc of await findByPoints(
      db,
      collection,
      { _id: { $in: ids } },
      ids.map((_id) => ({ _id })),
    )) {
      found.set((doc._id as ObjectId).toHexString(), doc);
    }
    return found;
  }
  const query: Document = {};
  spec.keyFields.forEach((field, i) => {
    query[field] = { $in: [...new Set(keys.map((k) => k[i]!))] };
  });
  const unique = new Map(keys.map((k) => [keyString(k), k]));
  const points = [...unique.values()].map((k) => Object.fromEntries(spec.keyFields.map((field, i) => [field, k[i]!])));
  for (const doc of await findByPoints(db, collection, query, points)) {
    const key = keyString(spec.keyFields.map((f) => String(doc[f])));
    if (unique.has(key)) found.set(key, doc);
  }
  return found;
}

/** Records a batch looks up by the `_id`s the fingerprint pass read, at most; more are looked up by key. */
const ID_LOOKUP_LIMIT = 8;

/**
 * {@link findExisting}, asking first by `_id` for the records whose stored
 * `_id` the stream's fingerprint pass has read.
 *
 * Why: on FerretDB/SQLite a look-up by natural key is a scan whose every
 * document FerretDB decodes (`$in` or not), while `_id` equality is handed to
 * SQLite. A corrected file — every row stored, a few changed in every batch —
 * looked its changed rows up with one such scan a batch: 20k sessions with
 * one row in 100 changed took 116 s (0.02× of an insert of the file; 3
 * December 2026). A document found by `_id` counts only if it still holds the
 * record's key (another writer may have replaced it); records not found that
 * way are looked up by key as before.
 *
 * SQLite still reads every row's JSON for an `_id`: a look-up took ~200 ms
 * against 10k sessions with five at once, about a sixth of one scan for
 * keys, so past {@link ID_LOOKUP_LIMIT} records one scan by key is cheaper.
 */
async function findStored(db: Db, spec: EntitySpec, records: Record<string, unknown>[], fingerprints: StoredFingerprints | undefined): Promise<Map<string, Document>> {
  const ids = records.length <= ID_LOOKUP_LIMIT ? fingerprints?.storedIds(spec, records) : undefined;
  if (!ids || ids.size === 0) return findExisting(db, spec, records);
  const points = [...ids.values()];
  const found = new Map<string, Document>();
  for (const doc of await findByPoints(
    db,
    collectionFor(db, spec),
    { _id: { $in: points } },
    points.map((_id) => ({ _id })),
  )) {
    const key = naturalKeyString(spec, doc);
    if (key !== undefined && doc._id instanceof ObjectId && ids.get(key)?.equals(doc._id)) found.set(key, doc);
  }
  const rest = found.size === records.length ? [] : records.filter((record) => !found.has(naturalKeyString(spec, record)!));
  for (const [key, doc] of await findExisting(db, spec, rest)) found.set(key, doc);
  return found;
}

/**
 * For each unique (non-key) field, which natural key owns each value now.
 * A value the record's own stored version holds is owned by that record (a
 * unique index allows one holder), so only the other values are looked up:
 * a re-import of stored users with their usernames costs no second scan.
 */
async function findUniqueOwners(db: Db, spec: EntitySpec, records: Record<string, unknown>[], existing: Map<string, Document>): Promise<Map<string, Map<string, string>>> {
  const owners = new Map<string, Map<string, string>>();
  for (const field of spec.uniqueFields) {
    const byValue = new Map<string, string>();
    owners.set(field, byValue);
    const values: string[] = [];
    for (const record of records) {
      const value = record[field];
      if (typeof value !== "string") continue;
      const key = naturalKeyOf(spec, record);
      if (key && existing.get(keyString(key))?.[field] === value) byValue.set(value, keyString(key));
      else values.push(value);
    }
    values.splice(0, values.length, ...new Set(values.filter((v) => !byValue.has(v))));
    if (values.length === 0) continue;
    const projection = { _id: 0, [field]: 1, ...Object.fromEntries(spec.keyFields.map((k) => [k, 1])) };
    const docs = await findByPoints(
      db,
      collectionFor(db, spec),
      { [field]: { $in: values } },
      values.map((value) => ({ [field]: value })),
      { projection },
    );
    for (const doc of docs) byValue.set(doc[field] as string, keyString(spec.keyFields.map((k) => String(doc[k]))));
  }
  return owners;
}

function uniqueConflict(spec: EntitySpec, record: Record<string, unknown>, current: Document | undefined, owners: Map<string, Map<string, string>>): FieldIssue | undefined {
  const key = naturalKeyOf(spec, record);
  for (const field of spec.uniqueFields) {
    const value = record[field];
    if (typeof value !== "string") continue;
    const owner = owners.get(field)?.get(value);
    if (owner !== undefined && (!key || owner !== keyString(key))) {
      return { field, reason: `"${value}" is already used by another ${spec.name.replace(/s$/, "")}` };
    }
  }
  void current;
  return undefined;
}

/**
 * The second half of an optimistic upsert: records whose insert a unique
 * index refused (their key exists, or a unique value is taken) are written
 * again through the look-up path, which replaces, leaves unchanged, or
 * reports the conflict; their outcomes replace the insert plans.
 */
async function replanRefused(
  db: Db,
  spec: EntitySpec,
  records: Record<string, unknown>[],
  refused: Planned[],
  options: WriteOptions,
  plans: Map<number, Planned>,
  errors: Map<number, RecordError[]>,
): Promise<void> {
  if (refused.length === 0) return;
  const retry = await writeBatch(
    db,
    spec,
    refused.map((p) => records[p.index]!),
    { ...options, lookUpFirst: true },
  );
  const byRetryIndex = new Map<number, RecordError[]>();
  for (const error of retry.errors) byRetryIndex.set(error.index, [...(byRetryIndex.get(error.index) ?? []), error]);
  refused.forEach((plan, i) => {
    const outcome = retry.outcomes[i];
    if (outcome !== undefined) {
      plans.set(plan.index, { index: plan.index, outcome, stored: retry.stored[i]! });
    } else {
      plans.delete(plan.index);
      errors.set(
        plan.index,
        (byRetryIndex.get(i) ?? [{ index: i, code: "internal" as const, field: "", reason: "the write failed" }]).map((e) => ({ ...e, index: plan.index })),
      );
    }
  });
}

/**
 * Says why each duplicate-key write failed. Not every server names the index
 * in its error (FerretDB does not), so the failed records' keys are looked up:
 * an existing key is "exists" (or a skip, in skip-existing mode); otherwise a
 * unique field such as a username is taken.
 */
async function explainDuplicates(db: Db, spec: EntitySpec, duplicates: Planned[], mode: WriteMode, failures: Map<number, RecordError>, plans: Map<number, Planned>): Promise<void> {
  if (duplicates.length === 0) return;
  if (spec.appendOnly) {
    // A restored log entry whose id is taken: unchanged when it is the same entry, else refused.
    const existing = await retryTransient(() =>
      findExisting(
        db,
        spec,
        duplicates.map((p) => p.stored),
      ),
    );
    for (const plan of duplicates) {
      const current = existing.get(String(plan.stored.id));
      const { id: _id, ...fields } = plan.stored;
      const entry = current ? restoredEntry(spec, plan.index, { id: plan.stored.id, ...fields }, current) : undefined;
      if (entry?.ok) plans.set(plan.index, entry.plan);
      else failures.set(plan.index, { index: plan.index, code: "exists", ...(entry?.issue ?? { field: "id", reason: "the id is already taken" }) });
    }
    return;
  }
  // With no unique field besides the key, a duplicate can only be an existing key.
  if (spec.uniqueFields.length === 0) {
    for (const plan of duplicates) {
      const key = naturalKeyOf(spec, plan.stored)!;
      if (mode === "skip-existing") plans.set(plan.index, { index: plan.index, outcome: "skipped", stored: plan.stored });
      else failures.set(plan.index, { index: plan.index, code: "exists", field: spec.keyFields.join(","), reason: `a record with ${describeKey(spec, key)} already exists` });
    }
    return;
  }
  const existing = await retryTransient(() =>
    findExisting(
      db,
      spec,
      duplicates.map((p) => p.stored),
    ),
  );
  for (const plan of duplicates) {
    const key = naturalKeyOf(spec, plan.stored);
    const current = key ? existing.get(keyString(key)) : undefined;
    if (current && mode === "skip-existing") {
      plans.set(plan.index, { index: plan.index, outcome: "skipped", stored: documentToRecord(spec, current) });
    } else if (current) {
      failures.set(plan.index, { index: plan.index, code: "exists", field: spec.keyFields.join(","), reason: `a record with ${describeKey(spec, key!)} already exists` });
    } else {
      const field = spec.uniqueFields.find((f) => plan.stored[f] !== undefined) ?? spec.keyFields.join(",");
      const value = plan.stored[field];
      failures.set(plan.index, { index: plan.index, code: "duplicate_key", field, reason: `"${String(value)}" is already used by another ${spec.name.replace(/s$/, "")}` });
    }
  }
}
