/**
 * W3C trace context across Connect and gRPC calls, as Connect interceptors.
 *
 * Why interceptors and not @opentelemetry/instrumentation-http: that one
 * patches `http`/`https`, not `http2`, so over h2c it neither starts spans
 * nor injects `traceparent`. The client interceptor starts a CLIENT span and
 * injects its context into the request headers; the server interceptor
 * extracts it (from a Connect client's headers or a @grpc/grpc-js caller's
 * metadata, which arrive as the same HTTP/2 headers), starts a SERVER span,
 * and runs the handler in that context. Streaming responses are wrapped so
 * every read runs in the span's context (a server-streaming handler is an
 * async generator whose body only runs as the stream is read) and the span
 * ends when the stream ends, fails or is abandoned.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor, type StreamRequest, type StreamResponse, type UnaryRequest, type UnaryResponse } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type TextMapGetter, type TextMapSetter } from "@opentelemetry/api";
import { getTracer, runIteratorInSpan, tracingStarted } from "./telemetry.js";

/** Reads propagation fields from Fetch API `Headers` (Connect's request headers). */
export const headersGetter: TextMapGetter<Headers> = {
  get: (carrier, key) => carrier.get(key) ?? undefined,
  keys: (carrier) => Array.from(carrier.keys()),
};

/** Writes propagation fields into Fetch API `Headers`. */
export const headersSetter: TextMapSetter<Headers> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

/** The span name of an RPC: `package.Service/Method`, as gRPC instrumentations name theirs. */
export function rpcSpanName(req: { service: { typeName: string }; method: { name: string } }): string {
  return `${req.service.typeName}/${req.method.name}`;
}

/**
 * gRPC codes that mark a SERVER span as failed; the others (NOT_FOUND,
 * INVALID_ARGUMENT, PERMISSION_DENIED, …) are the caller's doing and leave the
 * server span's status unset, per the OpenTelemetry RPC conventions.
 */
const serverErrorCodes = new Set<Code>([Code.Unknown, Code.DeadlineExceeded, Code.Unimplemented, Code.Internal, Code.Unavailable, Code.DataLoss]);

type AnyRequest = UnaryRequest | StreamRequest;
type AnyResponse = UnaryResponse | StreamResponse;

/** Options of the tracing interceptors. */
export interface RpcTracingOptions {
  /** Skip methods (e.g. health checks polled every second). Default: grpc.health.v1 and reflection. */
  ignore?: (req: AnyRequest) => boolean;
}

const defaultIgnore = (req: AnyRequest) => req.service.typeName.startsWith("grpc.health.") || req.service.typeName.startsWith("grpc.reflection.");

/**
 * For Connect clients (`createGrpcTransport({ interceptors: [...] })`):
 * starts a CLIENT span per call, a child of the active context, and injects
 * `traceparent`/`tracestate` into the request headers.
 */
export function createTracingClientInterceptor(options: RpcTracingOptions = {}): Interceptor {
  const ignore = options.ignore ?? defaultIgnore;
  return (next) => async (req) => {
    if (!tracingStarted() || ignore(req)) return next(req);
    const parent = context.active();
    const span = getTracer().startSpan(rpcSpanName(req), { kind: SpanKind.CLIENT, attributes: clientAttributes(req) }, parent);
    const ctx = trace.setSpan(parent, span);
    propagation.inject(ctx, req.header, headersSetter);
    return finish(span, ctx, "client", () => next(req), req.signal);
  };
}

/**
 * For servers (`startRpcServer({ interceptors: [...] })`): continues the
 * caller's trace from the request headers (or starts one), with a SERVER span
 * around the handler and, for streaming responses, around the whole stream.
 */
export function createTracingServerInterceptor(options: RpcTracingOptions = {}): Interceptor {
  const ignore = options.ignore ?? defaultIgnore;
  return (next) => async (req) => {
    if (!tracingStarted() || ignore(req)) return next(req);
    const parent = propagation.extract(ROOT_CONTEXT, req.header, headersGetter);
    const span = getTracer().startSpan(rpcSpanName(req), { kind: SpanKind.SERVER, attributes: serverAttributes(req) }, parent);
    const ctx = trace.setSpan(parent, span);
    return finish(span, ctx, "server", () => next(req));
  };
}

/** Runs the call in `ctx`; ends the span now (unary) or when the response stream ends. */
async function finish(span: Span, ctx: ReturnType<typeof context.active>, side: "client" | "server", call: () => Promise<AnyResponse>, signal?: AbortSignal): Promise<AnyResponse> {
  let res: AnyResponse;
  try {
    res = await context.with(ctx, call);
  } catch (error) {
    setRpcStatus(span, error, side);
    span.end();
    throw error;
  }
  if (!res.stream) {
    setRpcStatus(span, undefined, side);
    span.end();
    return res;
  }
  const source = res.message;
  let messages = 0;
  const message: AsyncIterable<unknown> = {
    [Symbol.asyncIterator]: () =>
      runIteratorInSpan(source, span, ctx, {
        signal,
        onItem: () => void messages++,
        onEnd: (error, how) => {
          span.setAttribute("rpc.response.messages", messages);
          if (how === "return" && error === undefined) span.setAttribute("rpc.stream.stopped_early", true);
          setRpcStatus(span, error, side);
        },
      }),
  };
  return { ...res, message } as StreamResponse;
}

/**
 * Sets `rpc.grpc.status_code`, `rpc.connect_rpc.error_code` and the span
 * status from a ConnectError's code (anything else counts as UNKNOWN, which is
 * what Connect itself sends for it).
 */
export function setRpcStatus(span: Span, error: unknown, side: "client" | "server"): void {
  if (error === undefined) {
    span.setAttribute("rpc.grpc.status_code", 0);
    return;
  }
  const connectError = ConnectError.from(error);
  const code = connectError.code;
  span.setAttribute("rpc.grpc.status_code", code);
  span.setAttribute("rpc.connect_rpc.error_code", codeToString(code));
  // A client's own cancel (abort, early stop) is its choice, not a failure.
  if ((side === "client" && code !== Code.Canceled) || serverErrorCodes.has(code)) {
    span.recordException(connectError);
    span.setStatus({ code: SpanStatusCode.ERROR, message: `${codeToString(code)}: ${connectError.rawMessage}` });
  }
}

function methodAttributes(req: AnyRequest): Attributes {
  return {
    "rpc.service": req.service.typeName,
    "rpc.method": req.method.name,
    "rpc.method_kind": (req.method as DescMethod).methodKind,
  };
}

function clientAttributes(req: AnyRequest): Attributes {
  const attributes: Attributes = { ...methodAttributes(req), "rpc.system": "connect_rpc" };
  try {
    const url = new URL(req.url);
    attributes["server.address"] = url.hostname;
    if (url.port) attributes["server.port"] = Number(url.port);
  } catch {
    // A router transport's URL may be relative; the address is then unknown.
  }
  return attributes;
}

function serverAttributes(req: AnyRequest): Attributes {
  const contentType = req.header.get("content-type") ?? "";
  // gRPC and gRPC-Web callers say so in their content type; anything else is the Connect protocol.
  const system = contentType.startsWith("application/grpc-web") ? "grpc_web" : contentType.startsWith("application/grpc") ? "grpc" : "connect_rpc";
  const attributes: Attributes = { ...methodAttributes(req), "rpc.system": system };
  const userAgent = req.header.get("user-agent");
  if (userAgent) attributes["user_agent.original"] = userAgent;
  return attributes;
}
