/**
 * Maps the errors of one call, client or server side: what `next(req)` throws
 * before the answer, and what a streamed answer throws while it is read. The
 * one way both the transfer service's error-mapping interceptor and its
 * records client's "broken call" interceptor catch a call's failures.
 */
import type { StreamResponse, UnaryResponse } from "@connectrpc/connect";

// biome-ignore lint/suspicious/noExplicitAny: any message types, as Connect's own Interceptor type has them
type AnyResponse = UnaryResponse<any, any> | StreamResponse<any, any>;

export async function mapCallErrors<R extends AnyResponse>(call: Promise<R>, map: (error: unknown) => unknown): Promise<R> {
  try {
    const res = await call;
    if (!res.stream) return res;
    const messages = res.message;
    return {
      ...res,
      message: (async function* () {
        try {
          yield* messages;
        } catch (error) {
          throw map(error);
        }
      })(),
    };
  } catch (error) {
    throw map(error);
  }
}
