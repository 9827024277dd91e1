/**
 * Sends records to the records service as WriteRecords batches, over any
 * Connect transport, and adds up the service's answers into exact counts.
 *
 * One bidi stream per entity. The request side reads the next batch from its
 * source (CSV parsing, mapping, encoding) while the service is still writing
 * the previous ones, but never runs more than `inFlight` unanswered batches
 * ahead: the service answers batches in order, one response each, so the
 * number of unanswered batches bounds both memory and how much a failure can
 * leave unreported.
 *
 * Records are written in upsert mode, so loading the same data again leaves
 * every record unchanged. The activity log is append-only (insert is the only
 * mode it takes), so re-inserting would duplicate it: it is skipped when
 * CountRecords finds entries for the seed already there.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type { CallOptions, Client } from "@connectrpc/connect";
import { type FilterSchema, WriteMode, WriteRecordsRequestSchema, type EntityRecord, type RecordsService, type WriteRecordsRequest } from "../../gen/dataexchange/records/v1/records_pb.js";
import { describeRecord, ENTITY_ENUM, SEED_ENTITIES, toEntityRecord, type PlainRecord, type SeedEntity } from "./wire-records.js";

export type RecordsClient = Client<typeof RecordsService>;

export interface LoadOptions {
  /** Records per WriteRecords message (default 1000). */
  batchSize?: number;
  /** Batches sent but not yet answered, at most (default 4). */
  inFlight?: number;
  /** Record errors kept per entity; the rest are only counted (default 20). */
  maxErrors?: number;
  /** Called after every answered batch with the running counts. */
  onProgress?: (progress: EntityLoadResult) => void;
  /** Headers, signal and timeout for every call. */
  callOptions?: CallOptions;
}

export interface LoadError {
  /** The batch's number within its entity, from 0. */
  batch: number;
  index: number;
  /** The record's natural key. */
  record: string;
  field: string;
  code: string;
  reason: string;
}

export interface EntityLoadResult {
  entity: SeedEntity;
  batches: number;
  /** Records sent. */
  records: number;
  inserted: number;
  updated: number;
  unchanged: number;
  skipped: number;
  failed: number;
  /** The first `maxErrors` record errors. */
  errors: LoadError[];
  /** Set when the entity was not loaded at all, saying why. */
  notLoaded?: string;
  ms: number;
}

function emptyResult(entity: SeedEntity): EntityLoadResult {
  return { entity, batches: 0, records: 0, inserted: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0, errors: [], ms: 0 };
}

/** Writes one entity's records in pipelined batches and returns the service's counts. */
export async function loadRecords(
  client: RecordsClient,
  entity: SeedEntity,
  records: AsyncIterable<PlainRecord | EntityRecord> | Iterable<PlainRecord | EntityRecord>,
  options: LoadOptions = {},
): Promise<EntityLoadResult> {
  const batchSize = options.batchSize ?? 1000;
  const inFlight = Math.max(1, options.inFlight ?? 4);
  const maxErrors = options.maxErrors ?? 20;
  const mode = entity === "activity" ? WriteMode.INSERT : WriteMode.UPSERT;
  const started = performance.now();
  const result = emptyResult(entity);

  const pending = new Map<string, EntityRecord[]>();
  let wake: (() => void) | undefined;
  let closed = false;
  let sourceError: { error: unknown } | undefined;
  const release = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const request = (batch: EntityRecord[]): WriteRecordsRequest => {
    const batchId = String(result.batches++);
    pending.set(batchId, batch);
    result.records += batch.length;
    return create(WriteRecordsRequestSchema, { entity: ENTITY_ENUM[entity], mode, ordered: false, batchId, records: batch });
  };

  async function* requests(): AsyncGenerator<WriteRecordsRequest> {
    try {
      let batch: EntityRecord[] = [];
      for await (const record of records) {
        batch.push(toEntityRecord(entity, record));
        if (batch.length < batchSize) continue;
        while (pending.size >= inFlight && !closed) await new Promise<void>((resolve) => (wake = resolve));
        if (closed) return;
        yield request(batch);
        batch = [];
      }
      while (pending.size >= inFlight && !closed) await new Promise<void>((resolve) => (wake = resolve));
      if (batch.length > 0 && !closed) yield request(batch);
    } catch (error) {
      // End the request stream cleanly instead of failing it: a failed request
      // iterable does not reliably end the call on every transport. The service
      // answers what was sent, and the source's error is thrown below.
      sourceError = { error };
    }
  }

  try {
    for await (const response of client.writeRecords(requests(), options.callOptions)) {
      const batch = pending.get(response.batchId);
      if (!batch) throw new Error(`the records service answered batch "${response.batchId}", which was not sent or was already answered`);
      pending.delete(response.batchId);
      result.inserted += response.inserted;
      result.updated += response.updated;
      result.unchanged += response.unchanged;
      result.skipped += response.skipped;
      result.failed += response.failed;
      for (const e of response.errors) {
        if (result.errors.length >= maxErrors) break;
        const record = batch[e.index];
        result.errors.push({ batch: Number(response.batchId), index: e.index, record: record ? describeRecord(record) : "?", field: e.field, code: e.code, reason: e.reason });
      }
      release();
      options.onProgress?.({ ...result, ms: performance.now() - started });
    }
  } finally {
    closed = true;
    release();
  }
  if (sourceError) {
    const { error } = sourceError;
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      `reading the ${entity} records failed after ${result.records} had been sent (and answered: ${result.inserted} inserted, ${result.updated} updated, ${result.unchanged} unchanged, ${result.failed} failed): ${message}`,
      { cause: error },
    );
  }
  if (pending.size > 0) throw new Error(`the records service answered ${result.batches - pending.size} of ${result.batches} ${entity} batches`);
  result.ms = performance.now() - started;
  return result;
}

export type RecordSource = AsyncIterable<PlainRecord | EntityRecord> | Iterable<PlainRecord | EntityRecord>;

export interface LoadAllOptions extends LoadOptions {
  /**
   * Which activity entries count as "this seed's": when CountRecords finds
   * any, activity is not loaded again (default: any entry at all).
   */
  activityFilter?: MessageInitShape<typeof FilterSchema>;
  /** Called before each entity starts. */
  onEntity?: (entity: SeedEntity) => void;
}

/**
 * Loads every given entity in reference order (courses, users, enrollments,
 * sessions, activity), one after the other, and returns their counts.
 */
export async function loadEntities(client: RecordsClient, sources: Partial<Record<SeedEntity, RecordSource>>, options: LoadAllOptions = {}): Promise<EntityLoadResult[]> {
  const results: EntityLoadResult[] = [];
  for (const entity of SEED_ENTITIES) {
    const source = sources[entity];
    if (!source) continue;
    options.onEntity?.(entity);
    if (entity === "activity") {
      const started = performance.now();
      const { count } = await client.countRecords({ entity: ENTITY_ENUM.activity, filter: options.activityFilter ?? {} }, options.callOptions);
      if (count > 0n) {
        results.push({
          ...emptyResult(entity),
          notLoaded: `the activity log already holds ${count} entries for this seed; it is append-only, so loading again would duplicate them`,
          ms: performance.now() - started,
        });
        continue;
      }
    }
    results.push(await loadRecords(client, entity, source, options));
  }
  return results;
}
