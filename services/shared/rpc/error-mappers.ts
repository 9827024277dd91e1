/**
 * Where a service's one error-mapping function is applied (connect-es style:
 * handlers throw domain errors, one place turns them into RPC statuses, kept
 * small enough to reach the caller: bounded-error.ts). Either one server
 * interceptor for all of a service's methods ({@link errorMappingInterceptor}),
 * or two wrappers each handler calls ({@link errorMappers}).
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

export interface ErrorMappers {
  /** Wraps a unary handler body and maps whatever it throws. */
  mapErrors<T>(body: () => Promise<T>): Promise<T>;
  /** Wraps a streaming handler body and maps whatever it throws, also after messages were sent. */
  mapStreamErrors<T>(body: () => AsyncGenerator<T>): AsyncGenerator<T>;
}

export function errorMappers(toConnectError: (error: unknown) => ConnectError): ErrorMappers {
  return {
    async mapErrors<T>(body: () => Promise<T>): Promise<T> {
      try {
        return await body();
      } catch (error) {
        throw boundedError(toConnectError(error));
      }
    },
    async *mapStreamErrors<T>(body: () => AsyncGenerator<T>): AsyncGenerator<T> {
      try {
        yield* body();
      } catch (error) {
        throw boundedError(toConnectError(error));
      }
    },
  };
}
