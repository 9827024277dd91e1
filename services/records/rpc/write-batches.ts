/**
 * The batches of one WriteRecords stream, from request to response: decoded
 * as they arrive, prepared (store/batch-writer.ts `prepareBatch`), written
 * (`sendBatch`) and answered with every record's outcome. The service runs
 * them through shared/streams/prepare-ahead.ts, which asks the question
 * answered here: may the next batch be prepared while this one is written.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Db } from "mongodb";
import { keyString, type EntitySpec } from "../../domain/index.js";
import { RecordErrorSchema, WriteRecordsResponseSchema, type WriteRecordsRequest, type WriteRecordsResponse } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { decodeRecord } from "../../shared/records-wire/record-codec.js";
import { InvalidRequestError } from "../errors.js";
import { plannedFromRecordsAlone, prepareBatch, sendBatch, type BatchResult, type PreparedBatch, type RecordError, type WriteMode } from "../store/batch-writer.js";
import type { WriteMemory } from "../store/before-images.js";
import type { ReferenceCache } from "../store/reference-check.js";
import type { StoredFingerprints } from "../store/stored-fingerprints.js";
import { requireEntity, requireMode } from "./request-codec.js";

/** The most records one WriteRecords message may carry. */
export const MAX_RECORDS_PER_BATCH = 10_000;

/** One WriteRecords batch as it arrives: its entity, mode and records, those that cannot be decoded failing on their own. */
export type DecodedBatch = { readable: false; request: WriteRecordsRequest; refusal: unknown } | (ReadableBatch & { readable: true });

interface ReadableBatch {
  request: WriteRecordsRequest;
  spec: EntitySpec;
  mode: WriteMode;
  records: Record<string, unknown>[];
  /** Each record's index in the request. */
  indexes: number[];
  decodeErrors: RecordError[];
  /** Its keys and unique values, once asked for (claimsOf). */
  claims?: Set<string>;
}

/** Decodes a batch; a request refused as a whole (unknown entity or mode, too many records) fails the stream at its turn. */
export function decodeBatch(request: WriteRecordsRequest): DecodedBatch {
  try {
    return { readable: true, ...readBatch(request) };
  } catch (refusal) {
    return { readable: false, request, refusal };
  }
}

function readBatch(request: WriteRecordsRequest): ReadableBatch {
  const spec = requireEntity(request.entity);
  const mode = requireMode(request.mode);
  if (request.records.length > MAX_RECORDS_PER_BATCH) {
    throw new InvalidRequestError(`a batch may carry at most ${MAX_RECORDS_PER_BATCH} records, got ${request.records.length}`, [{ field: "records", reason: "too many records" }]);
  }
  // Records that cannot even be decoded (the wrong entity) fail on their own;
  // the rest are written, keeping their indexes in the batch.
  const decodeErrors: RecordError[] = [];
  const records: Record<string, unknown>[] = [];
  const indexes: number[] = [];
  for (let i = 0; i < request.records.length; i++) {
    const decoded = decodeRecord(spec, request.records[i]);
    if (decoded.ok) {
      if (request.ordered && decodeErrors.length > 0) break;
      records.push(decoded.record);
      indexes.push(i);
    } else {
      decodeErrors.push({ index: i, field: decoded.field ?? "record", reason: decoded.reason, code: "invalid" });
    }
  }
  return { request, spec, mode, records, indexes, decodeErrors };
}

/**
 * Whether `next` may be prepared while `current` is written: both are of one
 * entity (a batch of sessions checks its users, which a batch of users before
 * it may be writing) and kind (dry run or not: one audit tally), `next` is
 * planned from its own records (batch-writer.ts `plannedFromRecordsAlone`),
 * and, where the stream's stored fingerprints decide records (upserts and
 * skip-existing):
 * - the fingerprints are loaded, or the batch before `current` held only new
 *   records: an upsert or skip-existing batch prepared before they are is sent
 *   as inserts, and a batch of stored records then pays for refused ones,
 *   which the fingerprints (loaded by the batch being written, when it finds
 *   many stored) would have spared;
 * - it claims no natural key or unique value `current` claims: the
 *   fingerprints learn `current`'s writes only once they are written.
 */
export function mayPrepareDuring(current: DecodedBatch, next: DecodedBatch, stream: { storedFingerprints: StoredFingerprints | undefined; lastAllNew: boolean }): boolean {
  if (!current.readable || !next.readable) return false;
  if (current.spec !== next.spec || current.request.dryRun !== next.request.dryRun) return false;
  if (!plannedFromRecordsAlone({ mode: next.mode, dryRun: next.request.dryRun, ordered: next.request.ordered })) return false;
  if (next.mode === "insert") return true;
  if (stream.storedFingerprints && !stream.storedFingerprints.isLoaded(next.spec) && !stream.lastAllNew) return false;
  return disjoint(claimsOf(current), claimsOf(next));
}

/**
 * What a batch's records claim: each natural key and unique value as sent,
 * lower-cased (validation lower-cases an email and an activity id, so two
 * spellings of one stored key must count as one). Unique values are more
 * than the fingerprints need (they are keyed by natural key); comparing them
 * too only makes the rule stricter.
 */
function claimsOf(batch: ReadableBatch): Set<string> {
  if (batch.claims) return batch.claims;
  const claims = new Set<string>();
  for (const record of batch.records) {
    const parts = batch.spec.keyFields.map((field) => record[field]);
    if (parts.every((part): part is string => typeof part === "string")) claims.add(`\u0000${keyString(parts.map((p) => p.toLowerCase()))}`);
    for (const field of batch.spec.uniqueFields) {
      const value = record[field];
      if (typeof value === "string") claims.add(`${field}\u0000${value.toLowerCase()}`);
    }
  }
  batch.claims = claims;
  return claims;
}

function disjoint(a: Set<string>, b: Set<string>): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const claim of small) if (large.has(claim)) return false;
  return true;
}

export interface PreparedOneBatch {
  batch: ReadableBatch;
  prepared: PreparedBatch;
}

export async function prepareOneBatch(
  db: Db,
  batch: DecodedBatch,
  stream: { referenceCache: ReferenceCache; storedFingerprints: StoredFingerprints | undefined; memory: WriteMemory | undefined },
): Promise<PreparedOneBatch> {
  if (!batch.readable) throw batch.refusal;
  const { request, spec, mode, records } = batch;
  const prepared = await prepareBatch(db, spec, records, { mode, dryRun: request.dryRun, ordered: request.ordered, ...stream });
  return { batch, prepared };
}

/** Writes one prepared WriteRecords batch and reports every record. */
export async function finishOneBatch({ batch, prepared }: PreparedOneBatch): Promise<WriteRecordsResponse> {
  const { request, indexes, decodeErrors } = batch;
  const result: BatchResult = await sendBatch(prepared);
  const errors = [...decodeErrors, ...result.errors.map((e) => ({ ...e, index: indexes[e.index]! }))];
  if (request.ordered && decodeErrors.length > 0) {
    const firstBad = decodeErrors[0]!.index;
    for (let i = firstBad + 1; i < request.records.length; i++) {
      if (!errors.some((e) => e.index === i)) errors.push({ index: i, field: "", reason: "not attempted: an earlier record in this ordered batch failed", code: "not_attempted" });
    }
  }
  errors.sort((a, b) => a.index - b.index);
  const failedIndexes = new Set(errors.map((e) => e.index));
  // A dry run says which records would change nothing, so a strict import replays only the others.
  const noOpIndexes: number[] = [];
  if (request.dryRun) {
    result.outcomes.forEach((outcome, i) => {
      if (outcome === "unchanged" || outcome === "skipped") noOpIndexes.push(indexes[i]!);
    });
  }
  return create(WriteRecordsResponseSchema, {
    batchId: request.batchId,
    inserted: result.inserted,
    updated: result.updated,
    unchanged: result.unchanged,
    skipped: result.skipped,
    failed: failedIndexes.size,
    dryRun: request.dryRun,
    errors: errors.map((e) => create(RecordErrorSchema, e)),
    revertibleUntil: result.revertibleUntil ? timestampFromDate(result.revertibleUntil) : undefined,
    noOpIndexes,
  });
}
