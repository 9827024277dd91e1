/**
 * Tracing for both services: start the SDK, propagate W3C trace context over
 * Connect and gRPC, and wrap jobs and streams in spans.
 */
export {
  startTelemetry,
  telemetryWanted,
  tracingStarted,
  getTracer,
  withSpan,
  traceAsyncIterable,
  runIteratorInSpan,
  markError,
  TRACER_NAME,
  type Telemetry,
  type TelemetryOptions,
  type SpanIteratorHooks,
} from "./telemetry.js";
export {
  createTracingClientInterceptor,
  createTracingServerInterceptor,
  headersGetter,
  headersSetter,
  rpcSpanName,
  setRpcStatus,
  type RpcTracingOptions,
} from "./rpc-tracing.js";
export { JsonLinesSpanExporter, readSpanFile, toFileSpan, type FileSpan } from "./file-span-exporter.js";
