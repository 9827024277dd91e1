/**
 * What both services share to serve RPCs: one import for server.ts files.
 */
export { startRpcServer, isMain, type RpcServer, type RpcServerOptions, type PlainHttpHandler } from "./serve.js";
export { HealthService, OVERALL_HEALTH, ServingStatus } from "./health-service.js";
export { ReflectionService, type ReflectionSource } from "./reflection-service.js";
export { registerReflection, ServerReflectionV1Alpha } from "./reflection-routes.js";
export { sendJson, type NodeServerRequest, type NodeServerResponse } from "./connection-sniffer.js";
