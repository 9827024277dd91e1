/**
 * Preload for tracing under ESM:
 *
 *   node --import tsx --import ./services/shared/telemetry/register.mjs services/records/server.ts
 *
 * Why a preload: @opentelemetry/instrumentation-mongodb and
 * @opentelemetry/instrumentation-grpc patch `mongodb` and `@grpc/grpc-js` as
 * they load. Under ESM that needs the import-in-the-middle loader hook
 * registered, and the instrumentations enabled, before the service's own
 * static imports run, which code in `main()` is too late for. The hook is
 * registered with an include list (only the modules an instrumentation asks
 * for are wrapped), not for every module, which roughly halves the added
 * start-up time.
 *
 * When tracing is not asked for (no OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or DX_TRACE_FILE, or OTEL_SDK_DISABLED=true)
 * this module does nothing, so leaving the flag on costs nothing. The spans
 * these instrumentations start go to the tracer provider that
 * `startTelemetry` registers later, through the API's global proxy.
 */
import { createRequire, register } from "node:module";

const env = process.env;
const wanted = (env.OTEL_SDK_DISABLED ?? "").trim().toLowerCase() !== "true" && Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.DX_TRACE_FILE);

if (wanted) {
  const require = createRequire(import.meta.url);
  // The import-in-the-middle instance @opentelemetry/instrumentation itself uses:
  // its hook list lives in module state, so it must be that very copy.
  const fromInstrumentation = createRequire(require.resolve("@opentelemetry/instrumentation"));
  const { createAddHookMessageChannel } = fromInstrumentation("import-in-the-middle");
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register("@opentelemetry/instrumentation/hook.mjs", import.meta.url, registerOptions);

  const { registerInstrumentations } = require("@opentelemetry/instrumentation");
  const { MongoDBInstrumentation } = require("@opentelemetry/instrumentation-mongodb");
  const { GrpcInstrumentation } = require("@opentelemetry/instrumentation-grpc");
  registerInstrumentations({
    instrumentations: [
      // requireParentSpan: the health watcher's pings and the driver's own
      // monitoring would otherwise each start a trace of their own.
      new MongoDBInstrumentation({ requireParentSpan: true }),
      new GrpcInstrumentation(),
    ],
  });
  globalThis[Symbol.for("dataexchange.telemetry.preloaded")] = true;
  await waitForAllMessagesAcknowledged();
}
