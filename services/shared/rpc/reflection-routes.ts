/**
 * Registers server reflection on a Connect router, under both names clients
 * ask for: `grpc.reflection.v1` (current grpcurl, `buf curl`) and the older
 * `grpc.reflection.v1alpha` (Postman, grpcurl before 1.8.8, many GUI clients).
 */
import { clone, createFileRegistry, fromBinary, toBinary, type DescMessage, type DescMethodBiDiStreaming, type DescService, type MessageShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import { file_grpc_reflection_v1_reflection, ServerReflection, ServerReflectionRequestSchema, ServerReflectionResponseSchema } from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import { ReflectionService, type ReflectionSource } from "./reflection-service.js";

/**
 * `grpc.reflection.v1alpha.ServerReflection`, derived from the v1 descriptor.
 *
 * Why derived rather than generated: v1alpha is wire-identical to v1 (same
 * messages, same field numbers, only the package differs), and proto/ vendors
 * only v1. Renaming the package in a copy of the descriptor gives a service
 * whose messages decode the same bytes.
 */
export const ServerReflectionV1Alpha: DescService = /*@__PURE__*/ deriveV1Alpha();

/**
 * Serves reflection for everything already routed on `router`, plus the
 * reflection services themselves, and returns the service so that callers can
 * inspect it. Call it last in a `routes` function: it lists the services that
 * are registered when it runs.
 *
 * @param extra more descriptors to make searchable (e.g. message types that
 *   travel inside `google.protobuf.Any`), not listed as services.
 */
export function registerReflection(router: ConnectRouter, extra: ReflectionSource = []): ReflectionService {
  const routed = new Set<DescService>(router.handlers.map((h) => h.service));
  routed.add(ServerReflection);
  routed.add(ServerReflectionV1Alpha);
  const reflection = new ReflectionService([...routed, ...extra]);
  router.service(ServerReflection, reflection);
  const method = ServerReflectionV1Alpha.methods[0] as DescMethodBiDiStreaming<DescMessage, DescMessage>;
  router.rpc(method, (requests) => v1AlphaStream(reflection, requests, method));
  return reflection;
}

async function* v1AlphaStream(
  reflection: ReflectionService,
  requests: AsyncIterable<MessageShape<DescMessage>>,
  method: DescMethodBiDiStreaming<DescMessage, DescMessage>,
): AsyncGenerator<MessageShape<DescMessage>> {
  for await (const request of requests) {
    const v1Request = fromBinary(ServerReflectionRequestSchema, toBinary(method.input, request));
    const v1Response = reflection.answer(v1Request);
    yield fromBinary(method.output, toBinary(ServerReflectionResponseSchema, v1Response));
  }
}

function deriveV1Alpha(): DescService {
  const proto = clone(FileDescriptorProtoSchema, file_grpc_reflection_v1_reflection.proto);
  const from = ".grpc.reflection.v1.";
  const to = ".grpc.reflection.v1alpha.";
  proto.name = "grpc/reflection/v1alpha/reflection.proto";
  proto.package = "grpc.reflection.v1alpha";
  proto.options = undefined;
  for (const message of proto.messageType) {
    for (const field of message.field) {
      if (field.typeName.startsWith(from)) field.typeName = to + field.typeName.slice(from.length);
    }
  }
  for (const service of proto.service) {
    for (const method of service.method) {
      method.inputType = to + method.inputType.slice(from.length);
      method.outputType = to + method.outputType.slice(from.length);
    }
  }
  const service = createFileRegistry(proto, () => undefined).getService("grpc.reflection.v1alpha.ServerReflection");
  if (!service) throw new Error("could not derive grpc.reflection.v1alpha.ServerReflection");
  return service;
}
