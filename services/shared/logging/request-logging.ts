/**
 * One log line per RPC, written when the call is over: method, status code,
 * duration, protocol, peer, and for streams the number of response messages.
 *
 * Why never the messages: request and response bodies carry records
 * (personal data, password hashes on import) and file contents; headers carry
 * bearer tokens. Only the fields listed here are read from a call, so nothing
 * else can leak into the line whatever the method. Put this interceptor after
 * the tracing interceptor so its line carries the call's trace_id.
 */
import { createContextKey, createContextValues, ConnectError, type ContextValues, type Interceptor, type StreamResponse } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import type { Logger } from "pino";
import { inJobScope, runInJobScope, type JobScope } from "./job-scope.js";

/**
 * The caller's address (`host:port` of the socket), for the `peer` field of
 * request lines: set it with router options `contextValues` (see
 * {@link peerContextValues}). Without it the interceptor falls back to
 * X-Forwarded-For / X-Real-IP.
 */
export const peerKey = createContextKey<string | undefined>(undefined, { description: "dataexchange RPC peer address" });

/**
 * Router option `contextValues` that records the caller's address under
 * {@link peerKey}: `startRpcServer({ contextValues: (req) => peerContextValues(req), … })`.
 * Pass `values` to add it to values the server sets anyway (the audit
 * trail's client address, the test subject).
 */
export function peerContextValues(req: { socket?: { remoteAddress?: string; remotePort?: number } | null }, values: ContextValues = createContextValues()): ContextValues {
  const peer = socketPeer(req);
  if (peer) values.set(peerKey, peer);
  return values;
}

/** `address:port` of a request's socket (`[v6]:port` for IPv6), or undefined once the socket is gone. */
export function socketPeer(req: { socket?: { remoteAddress?: string; remotePort?: number } | null }): string | undefined {
  try {
    const address = req.socket?.remoteAddress;
    if (!address) return undefined;
    const port = req.socket?.remotePort;
    if (!port) return address;
    return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
  } catch {
    // An HTTP/2 request's socket proxy throws once the stream is gone.
    return undefined;
  }
}

export interface RequestLoggingOptions {
  /** Skip calls (e.g. health checks polled every second). Default: grpc.health.v1 and reflection. */
  ignore?: (service: string, method: string) => boolean;
  /** Calls slower than this many ms are logged at warn. Default 10 s (a long stream is normal; this is a hint). */
  slowMs?: number;
  /**
   * The job a call says it works for, read when the call is over (after
   * authentication), for services whose jobs are another service's: the
   * records service trusts the job id header only from a service identity.
   */
  jobIdOf?: (req: { header: Headers; contextValues: ContextValues }) => string | undefined;
}

const defaultIgnore = (service: string) => service.startsWith("grpc.health.") || service.startsWith("grpc.reflection.");

/** Server-side request logging as a Connect interceptor. */
export function createRequestLoggingInterceptor(logger: Logger, options: RequestLoggingOptions = {}): Interceptor {
  const ignore = options.ignore ?? defaultIgnore;
  const slowMs = options.slowMs ?? 10_000;
  return (next) => async (req) => {
    const service = req.service.typeName;
    const method = req.method.name;
    if (ignore(service, method)) return next(req);
    const started = performance.now();
    // A job started by this call names itself in this scope (setCurrentJobId), so the call's line carries its id.
    const scope: JobScope = {};
    const fields = {
      rpc: `${service}/${method}`,
      protocol: protocolOf(req.header.get("content-type") ?? ""),
      peer: req.contextValues.get(peerKey) ?? forwardedFor(req.header),
    };
    const done = (error: unknown, responses?: number) => {
      const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
      const code = error === undefined ? "ok" : codeToString(ConnectError.from(error).code);
      const jobId = scope.jobId ?? options.jobIdOf?.(req);
      const line = { ...fields, code, duration_ms: durationMs, ...(responses !== undefined ? { responses } : {}), ...(jobId !== undefined ? { job_id: jobId } : {}) };
      if (error !== undefined && isServerFault(code)) logger.error({ ...line, error: ConnectError.from(error).rawMessage }, "rpc failed");
      else if (error !== undefined) logger.info(line, "rpc rejected");
      else if (durationMs > slowMs) logger.warn(line, "rpc slow");
      else logger.info(line, "rpc");
    };
    let res;
    try {
      res = await runInJobScope(scope, () => next(req));
    } catch (error) {
      done(error);
      throw error;
    }
    if (!res.stream) {
      done(undefined);
      return res;
    }
    return { ...res, message: inJobScope(countAndLog(res.message, done), scope) } as StreamResponse;
  };
}

async function* countAndLog<T>(source: AsyncIterable<T>, done: (error: unknown, responses: number) => void): AsyncGenerator<T> {
  let count = 0;
  let failure: unknown;
  try {
    for await (const item of source) {
      count++;
      yield item;
    }
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    done(failure, count);
  }
}

function isServerFault(code: string): boolean {
  return code === "unknown" || code === "internal" || code === "data_loss" || code === "unavailable" || code === "unimplemented";
}

function protocolOf(contentType: string): string {
  if (contentType.startsWith("application/grpc-web")) return "grpc-web";
  if (contentType.startsWith("application/grpc")) return "grpc";
  return "connect";
}

function forwardedFor(headers: Headers): string | undefined {
  const forwarded = headers.get("x-forwarded-for")?.split(",")[0]?.trim();
  return forwarded || headers.get("x-real-ip") || undefined;
}
