/**
 * The RecordWriter an import job gives the core: every batch goes over ONE
 * WriteRecords bidi stream to the records service, opened at the first batch
 * and kept open for the job, so a million-row import costs one call, one
 * reference cache on the records side and no per-batch connection set-up.
 *
 * Responses come back in request order; each is matched to its batch by
 * `batch_id`, and record indexes are mapped back to the core's batch (records
 * that could not even be encoded are reported here and not sent).
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { WriteRecordsRequest, WriteRecordsResponse } from "../../../gen/dataexchange/records/v1/records_pb.js";
import type { EntitySpec, WriteMode } from "../../domain/index.js";
import { entityEnum, UnencodableValueError } from "../../shared/records-wire/record-codec.js";
import { encodedRecord } from "../../shared/records-wire/record-bytes.js";
import { encodedWriteRecordsRequest, type EncodedWriteRecordsRequest } from "../../shared/records-wire/records-as-bytes.js";
import { writeModeEnum } from "../../shared/records-wire/write-mode-codec.js";
import { PushQueue } from "../../shared/streams/push-queue.js";
import type { RecordWriter, WriteError, WriteResult } from "../core/import-pipeline.js";
import type { RecordsClient } from "./records-client.js";

export class RecordsStreamWriter implements RecordWriter {
  private requests?: PushQueue<EncodedWriteRecordsRequest>;
  private responses?: AsyncIterator<WriteRecordsResponse>;
  /** Reads of responses, chained so that concurrent writes get theirs in order. */
  private reading: Promise<unknown> = Promise.resolve();
  private nextBatch = 0;
  /**
   * What the records service has reported written so far (real writes, not
   * dry runs): what a job that fails part-way has committed.
   */
  readonly written = { inserted: 0, updated: 0, unchanged: 0, skipped: 0 };
  /**
   * Real (not dry-run) batches sent and not answered, by batch id: if the
   * stream fails, their records may or may not be stored (unanswered-writes.ts
   * settles them).
   */
  private readonly unanswered = new Map<string, Record<string, unknown>[]>();
  /**
   * Until when the records service keeps what this stream's real writes
   * replaced (RevertWrites): the earliest expiry it gave a batch, unset while
   * it remembered nothing.
   */
  revertibleUntil?: Date;

  constructor(
    private readonly client: RecordsClient,
    private readonly spec: EntitySpec,
    private readonly signal?: AbortSignal,
  ) {}

  async write(records: Record<string, unknown>[], options: { mode: WriteMode; dryRun: boolean }): Promise<WriteResult> {
    const errors: WriteError[] = [];
    const wire: Uint8Array[] = [];
    const sentIndex: number[] = [];
    records.forEach((record, index) => {
      try {
        // The records client speaks binary gRPC, so the records go as their bytes (records-as-bytes.ts: the same wire, without protobuf-es's reflection).
        wire.push(encodedRecord(this.spec, record, "write"));
        sentIndex.push(index);
      } catch (error) {
        if (!(error instanceof UnencodableValueError)) throw error;
        errors.push({ index, field: error.field, reason: error.message, code: "invalid" });
      }
    });
    const result: WriteResult = { inserted: 0, updated: 0, unchanged: 0, skipped: 0, errors };
    if (wire.length === 0) return result;
    const batchId = String(++this.nextBatch);
    const sent = this.start().push(
      encodedWriteRecordsRequest({
        entity: entityEnum(this.spec.name),
        mode: writeModeEnum(options.mode),
        dryRun: options.dryRun,
        ordered: false,
        batchId,
        records: wire,
      }),
    );
    if (!sent) throw new Error("the write stream is closed");
    if (!options.dryRun)
      this.unanswered.set(
        batchId,
        sentIndex.map((i) => records[i]!),
      );
    const response = await this.read();
    if (response.batchId !== batchId) throw new Error(`the records service answered batch ${response.batchId} where ${batchId} was expected`);
    this.unanswered.delete(batchId);
    if (!options.dryRun) {
      const until = response.revertibleUntil ? timestampDate(response.revertibleUntil) : undefined;
      if (until && (!this.revertibleUntil || until < this.revertibleUntil)) this.revertibleUntil = until;
      this.written.inserted += response.inserted;
      this.written.updated += response.updated;
      this.written.unchanged += response.unchanged;
      this.written.skipped += response.skipped;
    }
    result.inserted = response.inserted;
    result.updated = response.updated;
    result.unchanged = response.unchanged;
    result.skipped = response.skipped;
    if (options.dryRun) result.noOps = response.noOpIndexes.map((i) => sentIndex[i] ?? -1);
    for (const e of response.errors) {
      errors.push({ index: sentIndex[e.index] ?? e.index, field: e.field, reason: e.reason, code: e.code || "invalid" });
    }
    errors.sort((a, b) => a.index - b.index);
    return result;
  }

  /** The records of real batches the records service never answered (its stream failed): none while it works. */
  unansweredRecords(): Record<string, unknown>[] {
    return [...this.unanswered.values()].flat();
  }

  /** Ends the request side and waits for the records service to finish the call. */
  async close(): Promise<void> {
    if (!this.requests || !this.responses) return;
    this.requests.end();
    await this.reading.catch(() => undefined);
    try {
      while (!(await this.responses.next()).done) {
        // Nothing is outstanding; drain whatever the server still says.
      }
    } catch {
      // The job's outcome is already decided; a failing close changes nothing.
    }
  }

  private start(): PushQueue<EncodedWriteRecordsRequest> {
    if (!this.requests) {
      this.requests = new PushQueue();
      // The records client sends a request whose records are bytes as it is (records-client.ts `recordBatchesAsBytes`).
      const requests = this.requests as AsyncIterable<EncodedWriteRecordsRequest> as AsyncIterable<WriteRecordsRequest>;
      this.responses = this.client.writeRecords(requests, { signal: this.signal })[Symbol.asyncIterator]();
    }
    return this.requests;
  }

  private read(): Promise<WriteRecordsResponse> {
    const next = this.reading.then(async () => {
      const r = await this.responses!.next();
      if (r.done) throw new Error("the records service ended the write stream early");
      return r.value;
    });
    this.reading = next.catch(() => undefined);
    return next;
  }
}
