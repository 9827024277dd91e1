/**
 * The records service class as its server runs it, for tests that call the
 * class directly (tier 1) or use it in-process in place of the service.
 *
 * Handlers throw domain errors; the server maps them to RPC statuses with one
 * interceptor (services/records/error-mapping.ts, installed innermost by
 * server.ts). Each method called here goes through that same interceptor, so
 * a test sees the status and message a caller gets — not a copy of the
 * mapping that could drift from the server's.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import type { StreamResponse, UnaryRequest, UnaryResponse } from "@connectrpc/connect";
import { RecordsService as RecordsServiceDesc } from "../../gen/dataexchange/records/v1/records_pb.js";
import { recordsErrorInterceptor } from "../../services/records/error-mapping.js";
import type { RecordsService } from "../../services/records/records-service.js";

/** `service`, each of its RPC methods called through the server's error-mapping interceptor. */
export function asServed(service: RecordsService): RecordsService {
  return new Proxy(service, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      const method = typeof property === "string" ? (RecordsServiceDesc.method as Record<string, DescMethod | undefined>)[property] : undefined;
      if (!method || typeof value !== "function") return value;
      return (...args: unknown[]) => throughInterceptor(method, () => value.apply(target, args));
    },
  });
}

function throughInterceptor(method: DescMethod, invoke: () => unknown): unknown {
  // The interceptor reads of a request only which service it is for.
  const request = { service: RecordsServiceDesc, method } as unknown as UnaryRequest;
  if (method.methodKind === "unary") {
    const next = async () => ({ stream: false, message: await invoke() }) as unknown as UnaryResponse;
    return recordsErrorInterceptor(next)(request).then((response) => response.message);
  }
  // A streaming method's answer is an async iterable, mapped while it is read, as the server sends it.
  const next = async () => ({ stream: true, message: invoke() }) as unknown as StreamResponse;
  return (async function* () {
    const response = await recordsErrorInterceptor(next)(request);
    yield* response.message as AsyncIterable<unknown>;
  })();
}
