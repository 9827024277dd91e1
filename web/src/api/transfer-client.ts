/**
 * The transfer service's Connect client for the browser: the generated
 * service description (gen/, from `buf generate`) over connect-web's
 * transport, same origin, binary Connect protocol over HTTP/1.1 (unary and
 * server streams, which is all the UI uses), with the access token as a
 * bearer on every call.
 */
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { TransferService } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";

export type TransferClient = Client<typeof TransferService>;

/** Adds `authorization: Bearer …` when there is a token. */
export function bearerInterceptor(token: () => Promise<string | undefined>): Interceptor {
  return (next) => async (req) => {
    const value = await token();
    if (value) req.header.set("authorization", `Bearer ${value}`);
    return next(req);
  };
}

export function createTransferClient(token: () => Promise<string | undefined>, baseUrl = window.location.origin): TransferClient {
  return createClient(TransferService, createConnectTransport({ baseUrl, useBinaryFormat: true, interceptors: [bearerInterceptor(token)] }));
}
