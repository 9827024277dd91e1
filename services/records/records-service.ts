/**
 * The records service: the generated RecordsService type implemented over
 * MongoDB. Its only dependency, the database handle, is passed in, so the
 * class is tested directly, through an in-memory router transport, and behind
 * a real server, with the same code.
 *
 * Handlers throw domain errors (errors.ts); the server's error-mapping
 * interceptor (error-mapping.ts, installed by server.ts) turns each into one
 * RPC status. Single-record writes run inside their audit (write-audit.ts
 * `single`), so each handler states only what it writes.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { Db } from "mongodb";
import type { EntitySpec } from "../domain/index.js";
import {
  CountRecordsResponseSchema,
  DeleteRecordResponseSchema,
  GetRecordResponseSchema,
  ListAuditEventsResponseSchema,
  PutRecordResponseSchema,
  RevertWritesResponseSchema,
  StreamDeletionsResponseSchema,
  StreamRecordsResponseSchema,
  type CountRecordsRequest,
  type DeleteRecordRequest,
  type DescribeEntityRequest,
  type GetRecordRequest,
  type ListAuditEventsRequest,
  type PutRecordRequest,
  type RevertWritesRequest,
  type RecordsService as RecordsServiceDesc,
  type StreamDeletionsRequest,
  type StreamRecordsRequest,
  type WriteRecordsRequest,
} from "../../gen/dataexchange/records/v1/records_pb.js";
import { InvalidRequestError, MissingReferenceError, OperationNotAllowedError, RecordExistsError, RecordNotFoundError, RecordValidationError, WriteInterruptedError } from "./errors.js";
import { isDatabaseUnavailable } from "../shared/mongo/database-unavailable.js";
import { retryTransient } from "../shared/mongo/transient-retry.js";
import { decodeRecord, encodeRecord } from "../shared/records-wire/record-codec.js";
import { encodedRecord } from "../shared/records-wire/record-bytes.js";
import { encodedStreamRecordsResponse, type EncodedStreamRecordsResponse } from "../shared/records-wire/records-as-bytes.js";
import { describeEntity } from "./rpc/describe-entity.js";
import { boundDate, OUTCOMES, readFilter, readJoins, readLimit, requireEntity, requireMode } from "./rpc/request-codec.js";
import { discardBatch, writeBatch, type RecordError } from "./store/batch-writer.js";
import { decodeBatch, finishOneBatch, mayPrepareDuring, prepareOneBatch } from "./rpc/write-batches.js";
import { readTombstones, recordTombstone } from "./store/change-tracking.js";
import { collectionFor } from "./store/collections.js";
import { findReferrer, ReferenceCache } from "./store/reference-check.js";
import { isFerretDb } from "./store/server-kind.js";
import { StoredFingerprints } from "./store/stored-fingerprints.js";
import { documentToRecord, keyFilter } from "./store/documents.js";
import { buildProjection, buildQuery } from "./store/record-query.js";
import { DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE, readDocumentBatches, readRecordBatches, readsDocumentsOnly, type ReadRequest } from "./store/record-reader.js";
import { storedDocumentsToWire } from "./rpc/stored-document-bytes.js";
import { joinSessions } from "./store/session-joins.js";
import { PersonalDataAccess, personalFields, writingJobId } from "./access-policy.js";
import { DEFAULT_REVERT_RETENTION_DAYS, type WriteMemory } from "./store/before-images.js";
import { revertWrites } from "./store/revert-writes.js";
import { AuditLog, auditEventMessage, auditQueryOf, withoutPersonalData } from "../shared/audit/index.js";
import { readAhead } from "../shared/streams/read-ahead.js";
import { prepareAhead } from "../shared/streams/prepare-ahead.js";
import { keyOf, WriteAudit, type AuditReporter } from "./write-audit.js";

/** Batches a stream reads ahead of the client (bounded memory: this many batches per open stream). */
const STREAM_READ_AHEAD = 2;

const DAY_MS = 24 * 60 * 60 * 1000;

export { MAX_RECORDS_PER_BATCH } from "./rpc/write-batches.js";

export interface RecordsServiceOptions {
  /** How long a job's before-images are kept for RevertWrites; default 30 days. */
  revertRetentionMs?: number;
}

export class RecordsService implements ServiceImpl<typeof RecordsServiceDesc> {
  private readonly writes: WriteAudit;
  private readonly revertRetentionMs: number;
  /**
   * WriteRecords streams in progress. A stream prepares its next batch while
   * the current one is written only when it is the only one: that uses time
   * the database would otherwise wait; with several streams the database is
   * kept busy by the others, and preparing ahead only holds another batch in
   * memory (bench section mixed-load, 8 exports and 4 imports: 8.1k records/s
   * and a records peak of 168 MB with every stream preparing ahead, 8.2–8.9k
   * and 156 MB before, 8.4k with this rule; bench/README.md).
   */
  private writeStreams = 0;

  /**
   * @param audit - where writes are audited; default the `audit_events`
   *   collection of `db` (writes are always audited).
   * @param reportAuditFailure - where an event that could not be stored goes; default stderr.
   */
  constructor(
    private readonly db: Db,
    readonly audit: AuditLog = new AuditLog(db, "records"),
    reportAuditFailure?: AuditReporter,
    options: RecordsServiceOptions = {},
  ) {
    this.writes = new WriteAudit(audit, reportAuditFailure);
    this.revertRetentionMs = options.revertRetentionMs ?? DEFAULT_REVERT_RETENTION_DAYS * DAY_MS;
  }

  /**
   * Records as messages: for JSON callers, and for handlers called directly.
   * Binary callers are served by {@link streamEncodedRecords}
   * (rpc/binary-callers.ts), the same records already encoded.
   */
  async *streamRecords(request: StreamRecordsRequest, context: HandlerContext) {
    const { spec, read, personal } = this.planStream(request, context);
    // The cursor fetches the next batches while this one is encoded and sent.
    for await (const batch of readAhead(readRecordBatches(this.db, spec, read, context.signal), STREAM_READ_AHEAD)) {
      yield create(StreamRecordsResponseSchema, { records: batch.map((r) => encodeRecord(spec, personal.filter(spec, r), "response")) });
    }
  }

  /**
   * StreamRecords for binary callers: each record already encoded
   * (shared/records-wire/records-as-bytes.ts), the same bytes protobuf-es
   * writes for {@link streamRecords}' messages. A read without joins is
   * transcoded from the stored BSON, nothing decoded (rpc/stored-document-bytes.ts);
   * one with joins is decoded, joined and encoded by record-bytes.ts.
   */
  async *streamEncodedRecords(request: StreamRecordsRequest, context: HandlerContext): AsyncGenerator<EncodedStreamRecordsResponse> {
    const { spec, read, personal } = this.planStream(request, context);
    if (readsDocumentsOnly(spec, read)) {
      const hidden = personal.hiddenFields(spec);
      for await (const batch of readAhead(readDocumentBatches(this.db, spec, read, context.signal), STREAM_READ_AHEAD)) {
        yield encodedStreamRecordsResponse(storedDocumentsToWire(spec, batch, hidden));
      }
      return;
    }
    for await (const batch of readAhead(readRecordBatches(this.db, spec, read, context.signal), STREAM_READ_AHEAD)) {
      yield encodedStreamRecordsResponse(batch.map((r) => encodedRecord(spec, personal.filter(spec, r), "response")));
    }
  }

  /** A StreamRecords request in the store's terms, refused before any read if the caller may not ask it. */
  private planStream(request: StreamRecordsRequest, context: HandlerContext): { spec: EntitySpec; read: ReadRequest; personal: PersonalDataAccess } {
    const spec = requireEntity(request.entity);
    const joins = readJoins(request.joins);
    const personal = PersonalDataAccess.of(context);
    personal.check(spec, { fields: request.fields, joins, sort: request.sort, byKey: (request.filter?.keys.length ?? 0) > 0 });
    const read: ReadRequest = {
      filter: readFilter(request.filter),
      fields: request.fields,
      sort: request.sort.map((s) => ({ field: s.field, descending: s.descending })),
      limit: readLimit(request.limit),
      batchSize: request.batchSize,
      joins,
    };
    return { spec, read, personal };
  }

  async *streamDeletions(request: StreamDeletionsRequest, context: HandlerContext) {
    const spec = requireEntity(request.entity);
    if (spec.appendOnly) throw new InvalidRequestError(`${spec.name} is append-only: nothing of it is ever deleted`, [{ field: "entity", reason: "is append-only" }]);
    // A deletion names its record by natural key: users' is their email address.
    PersonalDataAccess.of(context).check(spec, { byKey: true });
    const batchSize = Math.min(request.batchSize || DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE);
    const since = request.since ? boundDate(request.since, "since") : undefined;
    for await (const batch of readTombstones(this.db, spec, { since, batchSize, limit: readLimit(request.limit) })) {
      yield create(StreamDeletionsResponseSchema, { deletions: batch.map((t) => ({ key: { parts: t.key }, deletedAt: timestampFromDate(t.deletedAt) })) });
    }
  }

  async *writeRecords(requests: AsyncIterable<WriteRecordsRequest>, context: HandlerContext) {
    const db = this.db;
    const audit = this.writes.stream(context);
    const referenceCache = new ReferenceCache();
    // Writes made for a transfer job are remembered, so that the job can be reverted (store/before-images.ts).
    const jobId = writingJobId(context);
    const memory: WriteMemory | undefined = jobId ? { db, jobId, retentionMs: this.revertRetentionMs } : undefined;
    let failure: unknown;
    let storedFingerprints: StoredFingerprints | undefined;
    this.writeStreams++;
    try {
      // Where look-ups scan the collection (FerretDB), a stream that re-imports many stored records loads their fingerprints once.
      storedFingerprints = (await retryTransient(() => isFerretDb(db))) ? new StoredFingerprints() : undefined;
      /** Whether the last batch answered held only new records (all inserted). */
      let lastAllNew = false;
      const batches = prepareAhead(requests, {
        decode: decodeBatch,
        mayOverlap: (current, next) => this.writeStreams === 1 && mayPrepareDuring(current, next, { storedFingerprints, lastAllNew }),
        // Counted as received when its turn to be prepared comes: after the batch before it was counted as
        // written, or (overlapping) beside one of the same entity and kind, whose counts go to the same tally.
        prepare: (batch) => {
          audit.received(batch.request);
          return prepareOneBatch(db, batch, { referenceCache, storedFingerprints, memory });
        },
        finish: finishOneBatch,
        // Its writes were remembered for a revert but will not be sent. Should taking them back fail too (the
        // database gone), the entry names keys the job never wrote, as after a write cut off mid-batch: a
        // revert counts those not stored as unchanged and refuses, as changed since, those another writer stored.
        discard: (batch) => discardBatch(batch.prepared),
        stopped: () => context.signal.aborted,
      });
      for await (const response of batches) {
        audit.written(response);
        lastAllNew = response.updated + response.unchanged + response.skipped + response.failed === 0;
        yield response;
      }
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      // A pass still reading (the stream ended or failed before it was done) stops and closes its cursor.
      storedFingerprints?.close();
      this.writeStreams--;
      const audited = audit.finish(failure, context.signal.aborted);
      // On an outage the audit event waits for the database (write-audit.ts); the caller hears at once.
      if (!(failure instanceof WriteInterruptedError || isDatabaseUnavailable(failure))) await audited;
    }
  }

  async getRecord(request: GetRecordRequest, context?: HandlerContext) {
    const spec = requireEntity(request.entity);
    const key = request.key?.parts ?? [];
    const joins = new Set(readJoins(request.joins));
    const personal = PersonalDataAccess.of(context);
    personal.check(spec, { fields: request.fields, joins: [...joins], byKey: true });
    if (joins.size > 0 && spec.name !== "sessions") throw new InvalidRequestError("joins are only available on sessions", [{ field: "joins", reason: "only sessions can be joined" }]);
    const fields = request.fields.length > 0 ? request.fields : [];
    buildProjection(spec, fields); // refuses unknown or hidden fields
    const doc = await retryTransient(() => collectionFor(this.db, spec).findOne(keyFilter(spec, key), { projection: { passwordHash: 0 } }));
    if (!doc) throw new RecordNotFoundError(`no ${spec.name} record with key ${JSON.stringify(key)}`);
    const record = documentToRecord(spec, doc);
    await joinSessions(this.db, [record], joins);
    const selected = fields.length > 0 ? Object.fromEntries(Object.entries(record).filter(([k]) => fields.includes(k))) : record;
    return create(GetRecordResponseSchema, { record: encodeRecord(spec, personal.filter(spec, selected), "response") });
  }

  putRecord(request: PutRecordRequest, context?: HandlerContext) {
    return this.writes.single(context, { action: "put", dryRun: request.dryRun }, async (audit) => {
      const spec = requireEntity(request.entity);
      audit.set({ entity: spec.name });
      const mode = requireMode(request.mode);
      audit.set({ mode });
      const decoded = decodeRecord(spec, request.record);
      if (!decoded.ok) throw new RecordValidationError(decoded.reason, [{ field: decoded.field ?? "record", reason: decoded.reason }]);
      audit.set({ recordKey: keyOf(spec, decoded.record) });
      const result = await writeBatch(this.db, spec, [decoded.record], { mode, dryRun: request.dryRun, ordered: true });
      throwFirstError(spec, result.errors);
      const outcome = result.outcomes[0]!;
      // A server-assigned key (activity ids) is known only once stored.
      if (result.stored[0]) audit.set({ recordKey: keyOf(spec, result.stored[0]) });
      // The record as stored, less personal fields the caller may not read.
      const stored = PersonalDataAccess.of(context).filter(spec, { ...(result.stored[0] ?? {}) });
      return { counts: { [outcome]: 1 }, response: create(PutRecordResponseSchema, { outcome: OUTCOMES[outcome], record: encodeRecord(spec, stored, "response") }) };
    });
  }

  deleteRecord(request: DeleteRecordRequest, context?: HandlerContext) {
    const key = request.key?.parts ?? [];
    return this.writes.single(context, { action: "delete", recordKey: [...key] }, async (audit) => {
      const spec = requireEntity(request.entity);
      audit.set({ entity: spec.name });
      if (spec.appendOnly) throw new OperationNotAllowedError(`${spec.name} is append-only: entries cannot be deleted`);
      const filter = keyFilter(spec, key);
      const doc = await collectionFor(this.db, spec).findOne(filter, { projection: { passwordHash: 0 } });
      if (!doc) throw new RecordNotFoundError(`no ${spec.name} record with key ${JSON.stringify(key)}`);
      await refuseIfReferenced(this.db, spec, doc);
      const result = await collectionFor(this.db, spec).deleteOne(filter);
      // Written after the delete: a tombstone never names a record that is still there.
      if (result.deletedCount === 1) await recordTombstone(this.db, spec, keyOf(spec, doc as Record<string, unknown>) ?? key);
      return { counts: { deleted: result.deletedCount }, response: create(DeleteRecordResponseSchema, { deleted: result.deletedCount === 1 }) };
    });
  }

  /**
   * Undoes a transfer job's writes to one entity (store/revert-writes.ts),
   * one response per page of remembered records. A refused user's key (their
   * email) is withheld from a caller without `pii`: the refusal still counts.
   */
  async *revertWrites(request: RevertWritesRequest, context: HandlerContext) {
    const spec = requireEntity(request.entity);
    const jobId = request.jobId.trim();
    if (!/^[\x21-\x7e]{1,128}$/.test(jobId)) throw new InvalidRequestError("job_id must be a transfer job's id (1-128 printable characters)", [{ field: "job_id", reason: "is not a job id" }]);
    const withholdKeys = !PersonalDataAccess.of(context).allowed && spec.keyFields.some((k) => personalFields(spec).has(k));
    const counts = { restored: 0, deleted: 0, unchanged: 0, refused: 0 };
    let failure: unknown;
    try {
      for await (const batch of revertWrites(this.db, spec, jobId, context.signal)) {
        counts.restored += batch.restored;
        counts.deleted += batch.deleted;
        counts.unchanged += batch.unchanged;
        counts.refused += batch.refused;
        yield create(RevertWritesResponseSchema, {
          restored: batch.restored,
          deleted: batch.deleted,
          unchanged: batch.unchanged,
          refused: batch.refused,
          refusals: batch.refusals.map((r) => ({ key: { parts: withholdKeys ? [] : r.key }, reason: r.reason, code: r.code })),
        });
      }
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      await this.writes.revert(context, spec.name, counts, failure, context.signal.aborted);
    }
  }

  async countRecords(request: CountRecordsRequest, context?: HandlerContext) {
    const spec = requireEntity(request.entity);
    // Counting by email is asking whether an address exists: personal data.
    PersonalDataAccess.of(context).check(spec, { byKey: (request.filter?.keys.length ?? 0) > 0 });
    const query = buildQuery(spec, readFilter(request.filter));
    const count = await retryTransient(() => collectionFor(this.db, spec).countDocuments(query));
    return create(CountRecordsResponseSchema, { count: BigInt(count) });
  }

  async describeEntity(request: DescribeEntityRequest) {
    return describeEntity(requireEntity(request.entity));
  }

  /** The audit trail of writes, newest first; personal keys withheld from callers without `pii`. */
  async listAuditEvents(request: ListAuditEventsRequest, context?: HandlerContext) {
    const personal = PersonalDataAccess.of(context);
    const page = await this.audit.list(auditQueryOf(request.filter), request.pageSize, request.pageToken);
    const events = page.events.map((e) => auditEventMessage(personal.allowed ? e : withoutPersonalData(e)));
    return create(ListAuditEventsResponseSchema, { events, nextPageToken: page.nextPageToken });
  }
}

/** Turns the single record's first error into the exception that names its status. */
function throwFirstError(spec: EntitySpec, errors: RecordError[]): void {
  if (errors.length === 0) return;
  const first = errors[0]!;
  switch (first.code) {
    case "invalid":
      throw new RecordValidationError(
        `the ${spec.name} record is invalid: ${errors.map((e) => `${e.field} ${e.reason}`).join("; ")}`,
        errors.map((e) => ({ field: e.field, reason: e.reason })),
      );
    case "exists":
    case "duplicate_key":
      throw new RecordExistsError(`${first.field}: ${first.reason}`);
    case "missing_reference":
      throw new MissingReferenceError(`${first.field}: ${first.reason}`, first.field);
    default:
      throw new Error(`${first.field}: ${first.reason}`);
  }
}

/** Deleting a user or course that other records point at would orphan them. */
async function refuseIfReferenced(db: Db, spec: EntitySpec, doc: Record<string, unknown>): Promise<void> {
  const referrer = await findReferrer(db, spec, doc);
  if (referrer) throw new OperationNotAllowedError(`cannot delete ${spec.name} record "${referrer.value}": ${referrer.entity} still reference it by ${referrer.field}`);
}
