/**
 * Records as an export (or a preview's look-up of stored records) reads them:
 * StreamRecords read ahead of the consumer (the records service keeps
 * sending while the plugin formats the previous batches), each message as a
 * batch of the core's plain records.
 *
 * A record the codec cannot read (empty, or of another entity) is a broken
 * answer of the records service, not a row to leave out: it ends the export
 * with an internal error instead of a file one record short.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { StreamRecordsRequestSchema } from "../../../gen/dataexchange/records/v1/records_pb.js";
import type { EntitySpec } from "../../domain/index.js";
import { decodeRecord } from "../../shared/records-wire/record-codec.js";
import { readAhead } from "../../shared/streams/read-ahead.js";
import type { RecordsClient } from "./records-client.js";

export async function* recordBatches(
  records: RecordsClient,
  spec: EntitySpec,
  request: MessageInitShape<typeof StreamRecordsRequestSchema>,
  readAheadMessages: number,
  signal?: AbortSignal,
): AsyncGenerator<Record<string, unknown>[]> {
  for await (const message of readAhead(records.streamRecords(request, { signal }), readAheadMessages)) {
    const batch: Record<string, unknown>[] = [];
    for (const wire of message.records) {
      const decoded = decodeRecord(spec, wire);
      if (!decoded.ok) throw new ConnectError(`the records service sent a ${spec.name} record this export cannot read: ${decoded.reason}`, Code.Internal);
      batch.push(decoded.record);
    }
    yield batch;
  }
}
