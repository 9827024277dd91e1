/**
 * What both services share to serve and call RPCs: one import for server.ts
 * files and for services that call each other over grpc-js.
 */
export { startRpcServer, isMain, type RpcServer, type RpcServerOptions, type PlainHttpHandler } from "./serve.js";
export { HealthService, OVERALL_HEALTH, ServingStatus } from "./health-service.js";
export { ReflectionService, type ReflectionSource } from "./reflection-service.js";
export { registerReflection, ServerReflectionV1Alpha } from "./reflection-routes.js";
export {
  createGrpcJsClient,
  type GrpcJsBidiCall,
  type GrpcJsCallOptions,
  type GrpcJsClient,
  type GrpcJsClientOptions,
  type GrpcJsMethods,
} from "./grpc-js-client.js";
export { sendJson, type NodeServerRequest, type NodeServerResponse } from "./connection-sniffer.js";
