/**
 * One log line per plain HTTP/1.1 request (downloads, multipart uploads, job
 * pages), the counterpart of the RPC request line for the routes that do not
 * go through Connect: method, path, status, duration, peer.
 *
 * What is never read: the query string (export filters name people: emails,
 * keys), headers (bearer tokens, cookies) and bodies (file contents). A
 * request the handler does not answer falls through to Connect, whose
 * interceptor logs it as an RPC, so it is not logged here.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { socketPeer } from "./request-logging.js";

/** A plain HTTP handler as `startRpcServer({ http1 })` takes it: true when it answered. */
export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

/** `handler`, logging one line for every request it answers, once the response is over. */
export function withHttpRequestLogging(handler: HttpHandler, logger: Logger): HttpHandler {
  return async (req, res) => {
    const started = performance.now();
    // Read now: the socket may be gone by the time the response closes.
    const peer = socketPeer(req);
    let failure: unknown;
    let answered = false;
    try {
      answered = await handler(req, res);
    } catch (error) {
      failure = error;
      answered = true;
      throw error;
    } finally {
      if (answered) whenClosed(res, () => logLine(logger, req, res, { started, peer, failure }));
    }
    return answered;
  };
}

function whenClosed(res: ServerResponse, fn: () => void): void {
  if (res.closed) fn();
  else res.once("close", fn);
}

function logLine(logger: Logger, req: IncomingMessage, res: ServerResponse, call: { started: number; peer: string | undefined; failure: unknown }): void {
  const status = call.failure !== undefined && !res.headersSent ? 500 : res.statusCode;
  const line = {
    http: `${req.method ?? "?"} ${pathOf(req.url)}`,
    status,
    duration_ms: Math.round((performance.now() - call.started) * 1000) / 1000,
    ...(call.peer ? { peer: call.peer } : {}),
    // A response cut off before its end (client gone, stream failed): the status alone would say 200.
    ...(res.writableFinished ? {} : { completed: false }),
  };
  if (status >= 500) logger.error({ ...line, ...(call.failure instanceof Error ? { error: call.failure.message } : {}) }, "http failed");
  else if (status >= 400) logger.info(line, "http rejected");
  else logger.info(line, "http");
}

/** A request target without its query string: filters in the query name people, so it is never logged. */
export function pathOf(target: string | undefined): string {
  const url = target ?? "/";
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}
