/**
 * Where a service's one error-mapping function is applied (connect-es style:
 * handlers throw domain errors, one place turns them into RPC statuses, kept
 * small enough to reach the caller: bounded-error.ts): one server interceptor
 * for all of a service's methods, so no handler wraps its own body.
 */
import type { DescService } from "@bufbuild/protobuf";
import type { ConnectError, Interceptor } from "@connectrpc/connect";
import { boundedError } from "./bounded-error.js";
import { mapCallErrors } from "./map-call-errors.js";

/**
 * A server interceptor that maps whatever the methods of `service` throw —
 * before their answer, or while a stream is being sent — with
 * `toConnectError`. Put it last (innermost), so that request logging and
 * tracing see the mapped status; other services on the same server are left
 * alone.
 */
export function errorMappingInterceptor(service: DescService, toConnectError: (error: unknown) => ConnectError): Interceptor {
  const map = (error: unknown) => boundedError(toConnectError(error));
  return (next) => async (req) => {
    if (req.service.typeName !== service.typeName) return next(req);
    return mapCallErrors(next(req), map);
  };
}
