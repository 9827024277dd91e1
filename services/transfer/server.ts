/**
 * The transfer service's server: a builder that the tests and `npm start`
 * use, and a main that listens only when this module is run directly.
 *
 * One port (default 127.0.0.1:8000) answers gRPC (grpc-js callers, buf curl),
 * Connect (JSON and binary) and gRPC-Web, plus the plain HTTP/1.1 routes
 * (`GET /export/{format}`, `POST /import`, `/jobs/…`) for curl and browsers,
 * with grpc.health.v1 and server reflection beside the service.
 */
import { Code, ConnectError, createContextValues, type Interceptor } from "@connectrpc/connect";
import { MongoClient, type Db } from "mongodb";
import { TransferService as TransferServiceDesc } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { HealthService, isMain, registerReflection, ServingStatus, startRpcServer, type RpcServer } from "../shared/rpc/index.js";
import { createLogger, createRequestLoggingInterceptor } from "../shared/logging/index.js";
import { createTracingClientInterceptor, createTracingServerInterceptor, startTelemetry } from "../shared/telemetry/index.js";
import { loadTransferConfig, transferConfig, type TransferConfig, type TransferConfigInput } from "./config/transfer-config.js";
import { TransferDisabledError } from "./errors.js";
import { createTransferHttpHandler } from "./http/routes.js";
import { JobRegistry } from "./jobs/job-registry.js";
import { JobStore } from "./jobs/job-store.js";
import { defaultFormatsDir, discoverPlugins, type DiscoveredPlugins } from "./plugins/index.js";
import { createRecordsClient, type RecordsClient } from "./records-client.js";
import { SUBJECT, type SubjectResolver } from "./subject.js";
import type { TransferContext } from "./transfer-context.js";
import { TransferService } from "./transfer-service.js";

export interface TransferServerOptions {
  /** The transfer service's own database (jobs, row errors, staging). */
  db: Db;
  /** Base URL of the records service; default `config.recordsUrl`. */
  recordsUrl?: string;
  /** Plain values are checked and completed with defaults. */
  config?: TransferConfig | TransferConfigInput;
  host?: string;
  /** 0 picks a free port; default `config.port`. */
  port?: number;
  interceptors?: Interceptor[];
  /** Interceptors of the records client (tracing, auth propagation). */
  recordsInterceptors?: Interceptor[];
  /** Who is calling, from request headers; default anonymous (auth lands later). */
  subjectOf?: SubjectResolver;
  /** Plugins already discovered (tests); default formats/ plus config.pluginDirs. */
  plugins?: DiscoveredPlugins;
  log?: (...args: unknown[]) => void;
}

export interface RunningTransferServer {
  server: RpcServer;
  health: HealthService;
  url: string;
  context: TransferContext;
  close(): Promise<void>;
}

/** Refuses every TransferService call when the module is disabled; health and reflection still answer. */
function disabledInterceptor(config: TransferConfig): Interceptor {
  return (next) => async (req) => {
    if (!config.enabled && req.service.typeName === TransferServiceDesc.typeName) {
      const error = new TransferDisabledError();
      throw new ConnectError(error.message, Code.Unavailable, undefined, undefined, error);
    }
    return next(req);
  };
}

export async function buildTransferServer(options: TransferServerOptions): Promise<RunningTransferServer> {
  const config = transferConfig(options.config ?? {});
  const log = options.log ?? ((...args: unknown[]) => console.error("[transfer]", ...args));
  const plugins = options.plugins ?? (await discoverPlugins([defaultFormatsDir(), ...config.pluginDirs]));
  for (const failure of plugins.failures) log(`format plugin ${failure.name} was not loaded: ${failure.error}`);
  const jobs = new JobStore(options.db, config.maxStoredRowErrors);
  await jobs.ensureIndexes();
  const records: RecordsClient = createRecordsClient(options.recordsUrl ?? config.recordsUrl, options.recordsInterceptors);
  const context: TransferContext = { config, plugins, records, jobs, registry: new JobRegistry(), db: options.db, log };
  const status = config.enabled ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  const health = new HealthService([[TransferServiceDesc.typeName, status]]);
  const subjectOf = options.subjectOf;
  const server = await startRpcServer({
    host: options.host ?? config.host,
    port: options.port ?? config.port,
    interceptors: [disabledInterceptor(config), ...(options.interceptors ?? [])],
    readMaxBytes: 16 * 1024 * 1024,
    contextValues: (req) => subjectValues(subjectOf?.(req)),
    http1: createTransferHttpHandler(context, subjectOf),
    routes: (router) => {
      router.service(TransferServiceDesc, new TransferService(context));
      router.service(Health, health);
      registerReflection(router);
    },
  });
  return {
    server,
    health,
    url: server.url,
    context,
    async close() {
      health.shutdown();
      await context.registry.cancelAll();
      await server.close();
    },
  };
}

function subjectValues(subject: string | undefined) {
  const values = createContextValues();
  if (subject) values.set(SUBJECT, subject);
  return values;
}

async function main(): Promise<void> {
  // Traces when OTEL_EXPORTER_OTLP_ENDPOINT or DX_TRACE_FILE is set (services/shared/telemetry/README.md).
  const telemetry = startTelemetry({ serviceName: "dataexchange-transfer" });
  const logger = createLogger({ service: "transfer" });
  const config = loadTransferConfig();
  if (!config.mongodbUri) throw new Error("MONGODB_URI is required (or mongodbUri in the config file), e.g. mongodb://127.0.0.1:27017/");
  const client = new MongoClient(config.mongodbUri, { appName: "dataexchange-transfer" });
  await client.connect();
  const db = client.db(config.database);
  const running = await buildTransferServer({
    db,
    config,
    interceptors: [createTracingServerInterceptor(), createRequestLoggingInterceptor(logger)],
    recordsInterceptors: [createTracingClientInterceptor()],
    log: (message: unknown, ...details: unknown[]) => logger.warn(details.length > 0 ? { details } : {}, String(message)),
  });
  const formats = [...running.context.plugins.plugins.keys()].join(", ");
  process.stdout.write(
    `transfer service listening on ${running.url} (database ${config.database}, records at ${config.recordsUrl}, formats: ${formats}${config.enabled ? "" : "; DISABLED by configuration"})\n`,
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`transfer service stopping (${signal})\n`);
    await running.close();
    await client.close();
    await telemetry.shutdown();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

if (isMain(import.meta.url)) {
  main().catch((error) => {
    process.stderr.write(`transfer service failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
