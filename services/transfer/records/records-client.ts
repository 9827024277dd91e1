/**
 * The transfer service's way to the records service: a Connect client over
 * gRPC (HTTP/2). Its records as the core's plain records: the shared codec
 * (shared/records-wire/record-codec.ts, `"write"` for an import's records);
 * calls made for a user: records-for-caller.ts; the service's own
 * credential: service-credential.ts; the import's write stream:
 * records-writer.ts.
 */
import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { mapCallErrors } from "../../shared/rpc/map-call-errors.js";
import { RecordsService } from "../../../gen/dataexchange/records/v1/records_pb.js";

export type RecordsClient = Client<typeof RecordsService>;

/** A Connect client of the records service at `baseUrl` (h2c, gRPC protocol). */
export function createRecordsClient(baseUrl: string, interceptors: Interceptor[] = []): RecordsClient {
  return createClient(RecordsService, createGrpcTransport({ baseUrl, interceptors: [...interceptors, brokenCallsAreUnavailable], readMaxBytes: 64 * 1024 * 1024, writeMaxBytes: 64 * 1024 * 1024 }));
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
