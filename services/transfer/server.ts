/**
 * The transfer service's server: a builder that the tests and `npm start`
 * use, and a main that listens only when this module is run directly.
 *
 * One port (default 127.0.0.1:8000) answers gRPC (grpc-js callers, buf curl),
 * Connect (JSON and binary) and gRPC-Web, plus the plain HTTP/1.1 routes
 * (`GET /export/{format}`, `POST /import`, `/jobs/…`) for curl and browsers,
 * with grpc.health.v1 and server reflection beside the service.
 *
 * Authentication is opt-in in the builder (the service's own tests run
 * without it) and always on in main(), configured from the environment
 * (services/shared/auth/README.md): bearer tokens for the transfer audience
 * on every RPC and HTTP route but health (and reflection, unless configured
 * otherwise), the role table in access-policy.ts, and the service's own
 * credential on every records call, with the user forwarded.
 */
// Before anything decodes a string: keep a leading U+FEFF (text-encoding.ts).
import "../shared/rpc/text-encoding.js";
import { dirname, join } from "node:path";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { MongoClient, type Db } from "mongodb";
import { databaseChangeLogger, watchDatabaseHealth } from "../shared/mongo/database-health.js";
import { mongoClientOptions } from "../shared/mongo/mongo-client-options.js";
import { TransferService as TransferServiceDesc } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { HealthService, refuseUndeclaredFields, registerReflection, ServingStatus, startRpcServer, type RpcServer } from "../shared/rpc/index.js";
import { createRequestLoggingInterceptor, peerContextValues, pathOf, withHttpRequestLogging, type Logger } from "../shared/logging/index.js";
import { isMain, runService, stopOnSignals } from "../shared/process/index.js";
import { createTracingClientInterceptor, createTracingServerInterceptor, startTelemetry } from "../shared/telemetry/index.js";
import { AUDIENCES, DEV_ISSUER, createAuthInterceptor, createVerifierFromConfig, describeAuthConfig, loadAuthConfig, type ReflectionAccess, type TokenVerifier } from "../shared/auth/index.js";
import { AuditLog, CLIENT_ADDRESS, peerAddressOf } from "../shared/audit/index.js";
import { TRANSFER_ACCESS_POLICY, TRANSFER_METHOD_RULES } from "./access-policy.js";
import { forwardJobIdInterceptor, serviceCredentialFromEnv, serviceCredentialInterceptor, type ServiceCredential } from "./records/service-credential.js";
import { loadTransferConfig, transferConfig, type TransferConfig, type TransferConfigInput } from "./config/transfer-config.js";
import { TransferDisabledError } from "./errors.js";
import { toConnectError, transferErrorInterceptor } from "./error-mapping.js";
import { createTransferHttpHandler } from "./api/http/routes.js";
import { chainHttpHandlers, createWebUiHandler, type WebUiOptions } from "./api/http/web-ui.js";
import { repositoryRoot } from "../shared/process/repository-root.js";
import { JobRegistry } from "./jobs/job-registry.js";
import { JobStore } from "./jobs/job-store.js";
import type { JobDocument } from "./jobs/job-types.js";
import { auditJobEnd } from "./audit/job-audit.js";
import type { Caller } from "./caller.js";
import { FailedRowStore } from "./jobs/failed-row-store.js";
import { defaultFormatsDir, discoverPlugins, type DiscoveredPlugins } from "./plugins/index.js";
import { startFormatWorkers, type FormatWorkers } from "./plugins/workers/index.js";
import { createRecordsClient, type RecordsClient } from "./records/records-client.js";
import { SUBJECT, type SubjectResolver } from "./subject.js";
import type { NodeServerRequest } from "../shared/rpc/index.js";
import type { TransferContext } from "./transfer-context.js";
import { TransferService } from "./api/rpc/transfer-service.js";

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
  /** Who is calling, from request headers, when the server runs without `auth` (tests); default anonymous. */
  subjectOf?: SubjectResolver;
  /**
   * Require bearer tokens and apply the access policy (access-policy.ts).
   * Without it every call is allowed: for tests and embedding only.
   */
  auth?: TransferAuthOptions;
  /** Plugins already discovered (tests); default formats/ plus config.pluginDirs. */
  plugins?: DiscoveredPlugins;
  /**
   * One line per RPC (put after `interceptors`, so it carries the call's
   * trace_id) and per plain HTTP request, and the service's warnings (a
   * plugin that did not load). Without it the server logs no requests.
   */
  logger?: Logger;
  /** Where warnings go; default `logger` at warn, else stderr. */
  log?: (...args: unknown[]) => void;
  /** Serve the web UI at `/` (api/http/web-ui.ts); without it the port answers the API only. */
  webUi?: WebUiOptions;
}

export interface TransferAuthOptions {
  /** Verifies callers' tokens (audience dataexchange-transfer). */
  verifier: TokenVerifier;
  /** Whether reflection needs a token; default `public`. Health never does. */
  reflection?: ReflectionAccess;
  /**
   * The transfer service's own token for the records service; every records
   * call carries it and forwards the user. Without it records calls carry no
   * token (a records service without auth).
   */
  serviceCredential?: ServiceCredential;
}

export interface RunningTransferServer {
  server: RpcServer;
  health: HealthService;
  url: string;
  context: TransferContext;
  /** Where each format runs, and the worker pool (closed with the server). */
  formatWorkers: FormatWorkers;
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
  const logger = options.logger;
  const log = options.log ?? (logger ? warnTo(logger) : (...args: unknown[]) => console.error("[transfer]", ...args));
  const discovered = options.plugins ?? (await discoverPlugins([defaultFormatsDir(), ...config.pluginDirs]));
  const formatWorkers = await startFormatWorkers(discovered, config.formatWorkers);
  try {
    return await buildWithPlugins(options, config, formatWorkers, log);
  } catch (error) {
    await formatWorkers.close();
    throw error;
  }
}

async function buildWithPlugins(options: TransferServerOptions, config: TransferConfig, formatWorkers: FormatWorkers, log: (...args: unknown[]) => void): Promise<RunningTransferServer> {
  const logger = options.logger;
  const plugins = formatWorkers.plugins;
  for (const failure of plugins.failures) log(`format plugin ${failure.name} was not loaded: ${failure.error}`);
  const jobs = new JobStore(options.db, config.maxStoredRowErrors);
  await jobs.ensureIndexes();
  await new FailedRowStore(options.db).ensureIndexes();
  const audit = new AuditLog(options.db, "transfer");
  await audit.ensureIndexes();
  const credential = options.auth?.serviceCredential;
  const records: RecordsClient = createRecordsClient(options.recordsUrl ?? config.recordsUrl, [
    ...(options.recordsInterceptors ?? []),
    ...(credential ? [serviceCredentialInterceptor(credential)] : []),
    forwardJobIdInterceptor,
  ]);
  // A job a sweep fails (its instance died) gets its audit event from the instance that noticed.
  const onStopped = (job: JobDocument) => auditJobEnd({ audit, config, log }, job, { state: "failed", error: job.error, errorCode: job.errorCode }, sweptCaller(job));
  // Job ends wait through anything this service answers UNAVAILABLE for: its database, the records service.
  const isOutage = (error: unknown) => toConnectError(error).code === Code.Unavailable;
  const registry = new JobRegistry(jobs, config.jobs, { log, onStopped, isOutage });
  const context: TransferContext = { config, plugins, records, jobs, registry, db: options.db, audit, log };
  const status = config.enabled ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  const health = new HealthService([[TransferServiceDesc.typeName, status]]);
  // With auth on, the subject is the verified principal's, never a header's.
  const subjectOf = options.auth ? undefined : options.subjectOf;
  const auth = options.auth ? [createAuthInterceptor({ verifier: options.auth.verifier, reflection: options.auth.reflection, policy: TRANSFER_ACCESS_POLICY, rules: TRANSFER_METHOD_RULES })] : [];
  const api = createTransferHttpHandler(context, { subjectOf, auth: options.auth });
  // The API routes first: no UI path can shadow one.
  const http1 = options.webUi ? chainHttpHandlers(api, createWebUiHandler(options.webUi)) : api;
  const server = await startRpcServer({
    host: options.host ?? config.host,
    port: options.port ?? config.port,
    // The caller's interceptors (tracing) and request logging run outside auth, so rejected calls are traced and logged too.
    // Errors are mapped innermost, so that logging and tracing see the status the caller gets.
    interceptors: [
      disabledInterceptor(config),
      ...(options.interceptors ?? []),
      ...(logger ? [createRequestLoggingInterceptor(logger)] : []),
      ...auth,
      refuseUndeclaredFields,
      transferErrorInterceptor,
    ],
    readMaxBytes: 16 * 1024 * 1024,
    contextValues: (req) => callValues(req, subjectOf),
    http1: logger ? withHttpRequestLogging(http1, logger) : http1,
    // A route's unexpected failure, as one JSON line (path only: the query may name people).
    onError: logger ? (error, req) => logger.error({ http: `${req.method ?? "?"} ${pathOf(req.url)}`, err: error }, "plain HTTP handler failed") : undefined,
    routes: (router) => {
      router.service(TransferServiceDesc, new TransferService(context));
      router.service(Health, health);
      registerReflection(router);
    },
  });
  // Leases, cancel requests and sweeps; the first sweep fails the jobs of instances that died while none was watching.
  await registry.begin();
  return {
    server,
    health,
    url: server.url,
    context,
    formatWorkers,
    async close() {
      health.shutdown();
      await context.registry.close();
      await server.close();
      await formatWorkers.close();
    },
  };
}

/** The caller an audit event of a swept job names: the job's subject (its roles are not known any more). */
function sweptCaller(job: JobDocument): Caller {
  return { subject: job.subject, audit: { subject: job.subject, roles: [] } };
}

/** A `log` function that writes its message and details as a warning line. */
function warnTo(logger: Logger): (...args: unknown[]) => void {
  return (message: unknown, ...details: unknown[]) => logger.warn(details.length > 0 ? { details } : {}, String(message));
}

/** The subject a test resolver names (servers without auth) and the peer address (audit trail, request lines). */
function callValues(req: NodeServerRequest, subjectOf: SubjectResolver | undefined) {
  const values = peerContextValues(req);
  const subject = subjectOf?.(req);
  if (subject) values.set(SUBJECT, subject);
  const address = peerAddressOf(req);
  if (address) values.set(CLIENT_ADDRESS, address);
  return values;
}

async function main(logger: Logger): Promise<void> {
  // Traces when OTEL_EXPORTER_OTLP_ENDPOINT or DX_TRACE_FILE is set (services/shared/telemetry/README.md).
  const telemetry = startTelemetry({ serviceName: "dataexchange-transfer" });
  const config = loadTransferConfig();
  const authConfig = loadAuthConfig(process.env, { variable: "DX_AUTH_AUDIENCE_TRANSFER", fallback: AUDIENCES.transfer });
  const verifier = createVerifierFromConfig(authConfig);
  const serviceCredential = serviceCredentialFromEnv(process.env);
  if (!config.mongodbUri) throw new Error("MONGODB_URI is required (or mongodbUri in the config file), e.g. mongodb://127.0.0.1:27017/");
  const client = new MongoClient(config.mongodbUri, mongoClientOptions(config.mongodbUri, "dataexchange-transfer"));
  await client.connect();
  const db = client.db(config.database);
  const running = await buildTransferServer({
    db,
    config,
    interceptors: [createTracingServerInterceptor()],
    recordsInterceptors: [createTracingClientInterceptor()],
    auth: { verifier, reflection: authConfig.reflection, serviceCredential },
    logger,
    // The UI signs in with the configured provider; the development key's issuer is no provider a browser can reach.
    webUi: { dir: join(repositoryRoot(), "dist", "web"), issuer: process.env.DX_WEB_ISSUER ?? authConfig.issuers.find((issuer) => issuer !== DEV_ISSUER) },
  });
  logger.info(
    {
      lifecycle: "listening",
      url: running.url,
      web_ui: `${running.url}/`,
      host: config.host,
      port: running.server.port,
      database: config.database,
      records_url: config.recordsUrl,
      formats: [...running.formatWorkers.modes.keys()],
      // Where each format's plugin runs: { csv: "in-thread", xlsx: "workers" }.
      format_modes: Object.fromEntries(running.formatWorkers.modes),
      // Formats from pluginDirs, with the build loaded and its folder: { grades: "0.1.0 /srv/team-formats/grades" }.
      added_formats: Object.fromEntries(
        [...running.formatWorkers.plugins.about]
          .filter(([, about]) => dirname(about.loadedFrom) !== defaultFormatsDir())
          .map(([name, about]) => [name, `${about.version || "(no version)"} ${about.loadedFrom}`]),
      ),
      enabled: config.enabled,
      // describeAuthConfig's text starts with "auth: ", which the field name already says.
      auth: describeAuthConfig(authConfig).replace(/^auth: /, ""),
      // Where the token comes from (a file, the development key), never the token.
      records_credential: serviceCredential.description,
    },
    "transfer service listening",
  );
  if (!config.enabled) logger.warn({ enabled: false }, "transfer service DISABLED by configuration: every transfer call answers UNAVAILABLE");
  // NOT_SERVING while the jobs' database is unreachable: no job can start or be recorded then.
  const stopWatching = watchDatabaseHealth(db, running.health, { services: [TransferServiceDesc.typeName], onChange: databaseChangeLogger(logger) });
  stopOnSignals("transfer", logger, async () => {
    stopWatching();
    await running.close();
    await client.close();
    await telemetry.shutdown();
  });
}

if (isMain(import.meta.url)) runService("transfer", main);
