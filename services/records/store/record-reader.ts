/**
 * Streams an entity's records in batches from a MongoDB cursor. The generator
 * pulls the next batch only when its consumer asks for it (backpressure), and
 * closes the cursor in `finally`, so an early `break`, an error or a cancelled
 * RPC always frees it.
 */
import type { Db, Document } from "mongodb";
import { fieldOf, type EntitySpec } from "../../domain/index.js";
import { InvalidRequestError } from "../errors.js";
import { Retries } from "../../shared/mongo/transient-retry.js";
import { collectionFor } from "./collections.js";
import { documentToRecord } from "./documents.js";
import { buildProjection, buildQuery, buildSort, type RecordFilter } from "./record-query.js";
import { JOIN_FIELDS, JOIN_SOURCE, joinSessions, type SessionJoin } from "./session-joins.js";

export interface ReadRequest {
  filter?: RecordFilter;
  /** Field keys to return; empty returns every readable stored field. */
  fields?: string[];
  sort?: { field: string; descending: boolean }[];
  /** 0 or absent: no limit. */
  limit?: number;
  batchSize?: number;
  joins?: SessionJoin[];
}

export const DEFAULT_BATCH_SIZE = 500;
export const MAX_BATCH_SIZE = 10_000;

let openCursors = 0;

/** How many record cursors are open right now (for tests and metrics). */
export function openCursorCount(): number {
  return openCursors;
}

interface ReadPlan {
  joins: Set<SessionJoin>;
  projectionFields: string[];
  /** Fields fetched only to join on, removed before records are returned. */
  helperFields: string[];
}

function planRead(spec: EntitySpec, request: ReadRequest): ReadPlan {
  const joins = new Set<SessionJoin>(request.joins ?? []);
  const selected = request.fields ?? [];
  for (const key of selected) {
    for (const [join, fields] of Object.entries(JOIN_FIELDS) as [SessionJoin, string[]][]) {
      if (fields.includes(key)) joins.add(join);
    }
  }
  if (joins.size > 0 && spec.name !== "sessions") {
    throw new InvalidRequestError(`joins are only available on sessions, not ${spec.name}`, [{ field: "joins", reason: "only sessions can be joined" }]);
  }
  if (selected.length === 0) return { joins, projectionFields: [], helperFields: [] };
  const stored = selected.filter((key) => !fieldOf(spec, key)?.readOnly || key === "id" || key === spec.changeField);
  const helperFields: string[] = [];
  for (const join of joins) {
    const source = JOIN_SOURCE[join];
    if (!stored.includes(source)) {
      stored.push(source);
      helperFields.push(source);
    }
  }
  // Joined fields are validated (so a typo is an error) but not projected.
  for (const key of selected) if (!fieldOf(spec, key)) buildProjection(spec, [key]);
  return { joins, projectionFields: stored, helperFields };
}

/**
 * The records of a read, in batches, decoded and with their joins made.
 * A read that fails transiently (a reset connection, a stepdown) before it
 * has yielded anything starts over (services/shared/mongo/transient-retry.ts):
 * the caller has seen nothing yet, so nothing is repeated. Once a batch has
 * gone out, a failure ends the stream (UNAVAILABLE) rather than resume it.
 */
export async function* readRecordBatches(db: Db, spec: EntitySpec, request: ReadRequest, signal?: AbortSignal): AsyncGenerator<Record<string, unknown>[]> {
  const plan = planRead(spec, request);
  yield* readBatches(db, spec, request, plan, signal, {
    raw: false,
    take: (doc: Document) => documentToRecord(spec, doc),
    finish: (batch) => finish(db, batch, plan),
  });
}

/** Whether a read's records are its stored documents alone (no joins), which {@link readDocumentBatches} can serve. */
export function readsDocumentsOnly(spec: EntitySpec, request: ReadRequest): boolean {
  return planRead(spec, request).joins.size === 0;
}

/**
 * The same read as {@link readRecordBatches}, but each record is its stored
 * document's BSON exactly as the database sent it (the driver's `raw`
 * cursor), for a caller that writes the bytes on without decoding them (the
 * records service's stored-document-bytes.ts). Hidden fields are still in
 * them: that caller must leave them out. Only for reads without joins.
 */
export async function* readDocumentBatches(db: Db, spec: EntitySpec, request: ReadRequest, signal?: AbortSignal): AsyncGenerator<Uint8Array[]> {
  const plan = planRead(spec, request);
  if (plan.joins.size > 0) throw new Error("a read with joins needs decoded records: use readRecordBatches");
  yield* readBatches(db, spec, request, plan, signal, { raw: true, take: (doc: Uint8Array) => doc, finish: async (batch) => batch });
}

interface BatchShape<T, D> {
  /** Whether the driver hands documents over undecoded (`Uint8Array`s). */
  raw: boolean;
  take: (doc: D) => T;
  finish: (batch: T[]) => Promise<T[]>;
}

async function* readBatches<T, D>(db: Db, spec: EntitySpec, request: ReadRequest, plan: ReadPlan, signal: AbortSignal | undefined, shape: BatchShape<T, D>): AsyncGenerator<T[]> {
  const batchSize = Math.min(request.batchSize || DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE);
  const query = buildQuery(spec, request.filter);
  const projection = buildProjection(spec, plan.projectionFields);
  const sort = buildSort(spec, request.sort ?? []);
  const retries = new Retries({ signal });
  let yielded = false;
  for (;;) {
    const cursor = collectionFor(db, spec).find(query, {
      projection,
      sort,
      limit: request.limit && request.limit > 0 ? request.limit : undefined,
      batchSize,
      raw: shape.raw,
    });
    openCursors++;
    try {
      let batch: T[] = [];
      for await (const doc of cursor) {
        if (signal?.aborted) return;
        batch.push(shape.take(doc as D));
        if (batch.length >= batchSize) {
          const ready = await shape.finish(batch);
          yielded = true;
          yield ready;
          batch = [];
        }
      }
      if (batch.length > 0 && !signal?.aborted) {
        const ready = await shape.finish(batch);
        yielded = true;
        yield ready;
      }
      return;
    } catch (error) {
      if (yielded) throw error;
      await retries.after(error);
    } finally {
      openCursors--;
      await cursor.close().catch(() => undefined);
    }
  }
}

async function finish(db: Db, batch: Record<string, unknown>[], plan: ReadPlan): Promise<Record<string, unknown>[]> {
  await joinSessions(db, batch, plan.joins);
  if (plan.helperFields.length > 0) for (const record of batch) for (const f of plan.helperFields) delete record[f];
  return batch;
}
