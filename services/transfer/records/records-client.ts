/**
 * The transfer service's way to the records service: a Connect client over
 * gRPC (HTTP/2). Its records as the core's plain records: the shared codec
 * (shared/records-wire/record-codec.ts, `"write"` for an import's records);
 * calls made for a user: records-for-caller.ts; the service's own
 * credential: service-credential.ts; the import's write stream:
 * records-writer.ts.
 */
import { toBinary, type DescMethodStreaming } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client, type Interceptor, type StreamResponse, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { mapCallErrors } from "../../shared/rpc/map-call-errors.js";
import { EntityRecordSchema, RecordsService, type EntityRecord, type StreamRecordsResponse, type WriteRecordsRequest } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { WRITE_RECORDS_ENCODED, type EncodedWriteRecordsRequest } from "../../shared/records-wire/records-as-bytes.js";
import { readRecords, STREAM_RECORDS_UNREAD } from "../../shared/records-wire/records-read.js";

export type RecordsClient = Client<typeof RecordsService>;

/**
 * A Connect client of the records service at `baseUrl` (h2c, gRPC protocol).
 *
 * Uncompressed both ways (`acceptCompression: []`): the two services are one
 * deployment, where an export is limited by CPU, not by the link. With
 * Connect's defaults the client accepts gzip, so the records service gzipped
 * every batch of an export and this service gunzipped it again (bench/README.md,
 * *Records between the services, uncompressed*).
 */
export function createRecordsClient(baseUrl: string, interceptors: Interceptor[] = []): RecordsClient {
  return createClient(
    RecordsService,
    recordBatchesFast(
      createGrpcTransport({
        baseUrl,
        interceptors: [...interceptors, brokenCallsAreUnavailable],
        readMaxBytes: 64 * 1024 * 1024,
        writeMaxBytes: 64 * 1024 * 1024,
        acceptCompression: [],
      }),
    ),
  );
}

/**
 * `transport`, except for the two methods that carry an export's or an
 * import's every record, which it reads and writes without protobuf-es
 * walking each record by reflection; the transport speaks binary gRPC, which
 * both need:
 *
 * - StreamRecords responses are read with their records straight to plain
 *   records (shared/records-wire/records-read.ts): protobuf-es's reflective
 *   parse of each was the largest piece of this service's own work on an
 *   export.
 * - WriteRecords requests are written with each record as bytes
 *   (shared/records-wire/records-as-bytes.ts): the import's writer encodes
 *   them so (records-writer.ts); a request of record messages, as any other
 *   caller makes, has them encoded here, the same bytes either way.
 */
export function recordBatchesFast(transport: Transport): Transport {
  return {
    unary: (...args) => transport.unary(...args),
    async stream(method, signal, timeoutMs, header, input, contextValues) {
      if ((method as DescMethodStreaming) === RecordsService.method.writeRecords) {
        const response = await transport.stream(WRITE_RECORDS_ENCODED, signal, timeoutMs, header, recordBatchesAsBytes(input as AsyncIterable<WriteRecordsRequest>) as never, contextValues);
        return { ...response, method } as unknown as StreamResponse<never, never>;
      }
      if ((method as DescMethodStreaming) !== RecordsService.method.streamRecords) return transport.stream(method, signal, timeoutMs, header, input, contextValues);
      const response = await transport.stream(STREAM_RECORDS_UNREAD, signal, timeoutMs, header, input as never, contextValues);
      const messages = response.message as AsyncIterable<StreamRecordsResponse>;
      return {
        ...response,
        method,
        message: (async function* () {
          for await (const message of messages) yield readRecords(message);
        })(),
      } as unknown as StreamResponse<never, never>;
    },
  };
}

/** Each request with its records as bytes: those already encoded as they are, record messages encoded. */
async function* recordBatchesAsBytes(requests: AsyncIterable<WriteRecordsRequest | EncodedWriteRecordsRequest>): AsyncIterable<EncodedWriteRecordsRequest> {
  for await (const request of requests) {
    const records = request.records as (EntityRecord | Uint8Array)[];
    yield { ...request, records: records.map((r) => (r instanceof Uint8Array ? r : toBinary(EntityRecordSchema, r))) } as EncodedWriteRecordsRequest;
  }
}

/**
 * A records call cut off by its connection — the records service died or
 * the network failed mid-stream — is UNAVAILABLE, which callers retry.
 * connect-node reports it as CANCELLED (HTTP/2 streams of a closed session
 * are reset with CANCEL) or ABORTED (a reset socket), codes that mean the
 * caller gave up, so an export whose records service died ended CANCELLED
 * and no client retried it. Only the call's own signal cancels a call here.
 */
export const brokenCallsAreUnavailable: Interceptor = (next) => async (req) => {
  const broken = (error: unknown): unknown => {
    if (req.signal.aborted || !(error instanceof ConnectError) || (error.code !== Code.Canceled && error.code !== Code.Aborted)) return error;
    return new ConnectError(`the connection to the records service broke: ${error.rawMessage}`, Code.Unavailable, error.metadata, undefined, error);
  };
  return mapCallErrors(next(req), broken);
};
