/**
 * The transfer service's way to the records service: a Connect client over
 * gRPC (HTTP/2). Its records as the core's plain records: the shared codec
 * (shared/records-wire/record-codec.ts, `"write"` for an import's records);
 * calls made for a user: records-for-caller.ts; the service's own
 * credential: service-credential.ts; the import's write stream:
 * records-writer.ts.
 */
import type { DescMethodStreaming } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client, type Interceptor, type StreamResponse, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { mapCallErrors } from "../../shared/rpc/map-call-errors.js";
import { RecordsService, type StreamRecordsResponse } from "../../../gen/dataexchange/records/v1/records_pb.js";
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
    streamRecordsReadFast(
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
 * `transport`, except that StreamRecords responses are read with their
 * records straight to plain records (shared/records-wire/records-read.ts):
 * an export's every record comes this way, and protobuf-es's reflective
 * parse of each was the largest piece of the transfer service's own work on
 * an export. The transport speaks binary gRPC, which that reading needs.
 */
export function streamRecordsReadFast(transport: Transport): Transport {
  return {
    unary: (...args) => transport.unary(...args),
    async stream(method, signal, timeoutMs, header, input, contextValues) {
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
