/**
 * The records service's server: a builder that the tests and `npm start` use,
 * and a main that listens only when this module is run directly.
 *
 * One port answers gRPC (for @grpc/grpc-js callers and buf curl), Connect and
 * gRPC-Web, with grpc.health.v1 and server reflection beside the service; one
 * Connect router serves all three, so its interceptors (tracing, request
 * logging, auth, the refusal of fields the protos do not declare, and
 * innermost the error mapping) apply to every protocol.
 *
 * Authentication is opt-in in the builder (tests of the service itself run
 * without it) and always on in main(), configured from the environment
 * (services/shared/auth/README.md).
 */
// Before anything decodes a string: keep a leading U+FEFF (text-encoding.ts).
import "../shared/rpc/text-encoding.js";
import type { Interceptor } from "@connectrpc/connect";
import { MongoClient, type Db } from "mongodb";
import { databaseChangeLogger, watchDatabaseHealth } from "../shared/mongo/database-health.js";
import { mongoClientOptions } from "../shared/mongo/mongo-client-options.js";
import { RecordsService as RecordsServiceDesc } from "../../gen/dataexchange/records/v1/records_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { HealthService, refuseUndeclaredFields, registerReflection, ServingStatus, startRpcServer, type RpcServer } from "../shared/rpc/index.js";
import { AUDIENCES, principalKey, createAuthInterceptor, createVerifierFromConfig, describeAuthConfig, loadAuthConfig, type ReflectionAccess, type TokenVerifier } from "../shared/auth/index.js";
import { createRequestLoggingInterceptor, peerContextValues, type Logger } from "../shared/logging/index.js";
import { isMain, runService, stopOnSignals } from "../shared/process/index.js";
import { createTracingServerInterceptor, startTelemetry } from "../shared/telemetry/index.js";
import { RECORDS_ACCESS_POLICY, RECORDS_METHOD_RULES } from "./access-policy.js";
import { loadRecordsConfig } from "./config.js";
import { recordsErrorInterceptor } from "./error-mapping.js";
import { RecordsService } from "./records-service.js";
import { serveBinaryCallersFast } from "./rpc/binary-callers.js";
import { prepareChangeTracking } from "./store/change-tracking.js";
import { ensureIndexes } from "./store/collections.js";
import { prepareBeforeImages, purgeExpiredBeforeImagesHourly } from "./store/before-images.js";
import { clientAddressValues, forwardedJobId } from "../shared/audit/index.js";

export interface RecordsServerOptions {
  db: Db;
  host?: string;
  port?: number;
  interceptors?: Interceptor[];
  /**
   * One line per call ({@link recordsRequestLogging}), put after
   * `interceptors` (tracing) so each line carries its call's trace_id. Without
   * it the server logs nothing.
   */
  logger?: Logger;
  maxMessageBytes?: number;
  /**
   * Require bearer tokens and apply the access policy (access-policy.ts).
   * Without it every call is allowed: for tests and embedding only.
   */
  auth?: RecordsAuthOptions;
  /** Days an import's before-images are kept for RevertWrites (`RECORDS_REVERT_RETENTION_DAYS`); default 30. */
  revertRetentionDays?: number;
}

export interface RecordsAuthOptions {
  verifier: TokenVerifier;
  /** Whether reflection needs a token; default `public`. Health never does. */
  reflection?: ReflectionAccess;
}

export interface RunningRecordsServer {
  server: RpcServer;
  health: HealthService;
  url: string;
  close(): Promise<void>;
}

export async function buildRecordsServer(options: RecordsServerOptions): Promise<RunningRecordsServer> {
  const health = new HealthService([[RecordsServiceDesc.typeName, ServingStatus.SERVING]]);
  const service = new RecordsService(options.db, undefined, undefined, {
    revertRetentionMs: options.revertRetentionDays !== undefined ? options.revertRetentionDays * 24 * 60 * 60 * 1000 : undefined,
  });
  const server = await startRpcServer({
    host: options.host,
    port: options.port ?? 0,
    // The caller's interceptors (tracing) and request logging run outside auth, so rejected calls are traced and logged too.
    // Errors are mapped innermost, so that logging and tracing see the status the caller gets.
    interceptors: [
      ...(options.interceptors ?? []),
      ...(options.logger ? [recordsRequestLogging(options.logger)] : []),
      ...(options.auth ? [createAuthInterceptor({ ...options.auth, policy: RECORDS_ACCESS_POLICY, rules: RECORDS_METHOD_RULES })] : []),
      refuseUndeclaredFields,
      recordsErrorInterceptor,
    ],
    readMaxBytes: options.maxMessageBytes ?? 32 * 1024 * 1024,
    // The peer address, for the audit trail of writes and the request lines.
    contextValues: (req) => peerContextValues(req, clientAddressValues(req)),
    routes: (router) => {
      router.service(RecordsServiceDesc, service);
      serveBinaryCallersFast(router, service);
      router.service(Health, health);
      registerReflection(router);
    },
  });
  return {
    server,
    health,
    url: server.url,
    async close() {
      health.shutdown();
      await server.close();
    },
  };
}

/**
 * The records service's line per call. A call the transfer service makes for
 * a job carries that job's id (named in a header, believed only from a
 * service identity), so a job's lines can be followed across both services.
 */
function recordsRequestLogging(log: Logger): Interceptor {
  return createRequestLoggingInterceptor(log, { jobIdOf: (req) => forwardedJobId(req.contextValues.get(principalKey), req.header) });
}

async function main(log: Logger): Promise<void> {
  // Traces when OTEL_EXPORTER_OTLP_ENDPOINT or DX_TRACE_FILE is set (services/shared/telemetry/README.md).
  const telemetry = startTelemetry({ serviceName: "dataexchange-records" });
  const config = loadRecordsConfig();
  const authConfig = loadAuthConfig(process.env, { variable: "DX_AUTH_AUDIENCE_RECORDS", fallback: AUDIENCES.records });
  const verifier = createVerifierFromConfig(authConfig);
  const client = new MongoClient(config.MONGODB_URI, mongoClientOptions(config.MONGODB_URI, "dataexchange-records"));
  await client.connect();
  const db = client.db(config.RECORDS_DATABASE);
  await ensureIndexes(db);
  await prepareChangeTracking(db);
  await prepareBeforeImages(db);
  const stopPurging = purgeExpiredBeforeImagesHourly(db, (error) => log.warn({ err: error }, "could not purge expired before-images"));
  const running = await buildRecordsServer({
    db,
    host: config.RECORDS_HOST,
    port: config.RECORDS_PORT,
    maxMessageBytes: config.RECORDS_MAX_MESSAGE_BYTES,
    revertRetentionDays: config.RECORDS_REVERT_RETENTION_DAYS,
    auth: { verifier, reflection: authConfig.reflection },
    interceptors: [createTracingServerInterceptor()],
    logger: log,
  });
  const stopWatching = watchDatabaseHealth(db, running.health, { services: [RecordsServiceDesc.typeName], onChange: databaseChangeLogger(log) });
  log.info(
    // describeAuthConfig's text starts with "auth: ", which the field name already says.
    { lifecycle: "listening", url: running.url, host: config.RECORDS_HOST, port: running.server.port, database: config.RECORDS_DATABASE, auth: describeAuthConfig(authConfig).replace(/^auth: /, "") },
    "records service listening",
  );
  stopOnSignals("records", log, async () => {
    stopWatching();
    stopPurging();
    await running.close();
    await client.close();
    await telemetry.shutdown();
  });
}

if (isMain(import.meta.url)) runService("records", main);
