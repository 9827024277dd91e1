/**
 * The two wrappers every handler of a service goes through, built around
 * that service's one error-mapping function (connect-es style: handlers
 * throw domain errors, one place turns them into RPC statuses), and kept
 * small enough to reach the caller (bounded-error.ts).
 */
import type { ConnectError } from "@connectrpc/connect";
import { boundedError } from "./bounded-error.js";

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
