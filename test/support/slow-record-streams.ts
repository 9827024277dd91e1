/**
 * A records server interceptor that, while switched on, holds back each
 * message of its streams (StreamRecords: one batch of records each) for a
 * while — a slow database, so that a test can see an export mid-stream and
 * cancel it before it ends, however loaded the machine is (a fast stream can
 * sit whole in the sockets' buffers before the client reads its first
 * chunk). Everything else about the call is real.
 */
import type { Interceptor } from "@connectrpc/connect";

export interface SlowRecords {
  interceptor: Interceptor;
  /** Milliseconds each streamed message waits; 0 switches it off. */
  delayMs: number;
}

export function slowRecordStreams(): SlowRecords {
  const control: SlowRecords = {
    delayMs: 0,
    interceptor: (next) => async (req) => {
      const res = await next(req);
      if (!res.stream || control.delayMs === 0) return res;
      const delay = control.delayMs;
      const messages = res.message;
      return {
        ...res,
        message: (async function* () {
          for await (const message of messages) {
            await new Promise((resolve) => setTimeout(resolve, delay));
            yield message;
          }
        })(),
      };
    },
  };
  return control;
}
