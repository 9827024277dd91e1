/**
 * What both services share to serve RPCs: one import for server.ts files.
 */
export { startRpcServer, type RpcServer, type RpcServerOptions, type PlainHttpHandler } from "./serve.js";
export { HealthService, OVERALL_HEALTH, ServingStatus } from "./health-service.js";
export { ReflectionService, type ReflectionSource } from "./reflection-service.js";
export { registerReflection, ServerReflectionV1Alpha } from "./reflection-routes.js";
export type { NodeServerRequest, NodeServerResponse } from "./connection-sniffer.js";
export { sendJson } from "./send-json.js";
export { refuseUndeclaredFields } from "./undeclared-fields.js";
