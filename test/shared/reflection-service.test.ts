import { create, createFileRegistry, fromBinary, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { Code, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { RecordsService } from "../../gen/dataexchange/records/v1/records_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ServerReflection, ServerReflectionRequestSchema, type ServerReflectionRequest, type ServerReflectionResponse } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { registerReflection, ServerReflectionV1Alpha } from "../../services/shared/rpc/reflection-routes.js";
import { ReflectionService } from "../../services/shared/rpc/reflection-service.js";

type RequestInit = Parameters<typeof create<typeof ServerReflectionRequestSchema>>[1];

function ask(reflection: ReflectionService, init: RequestInit): ServerReflectionResponse {
  return reflection.answer(create(ServerReflectionRequestSchema, init));
}

function filesOf(response: ServerReflectionResponse): FileDescriptorProto[] {
  expect(response.messageResponse.case).toBe("fileDescriptorResponse");
  if (response.messageResponse.case !== "fileDescriptorResponse") return [];
  return response.messageResponse.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
}

function errorOf(response: ServerReflectionResponse) {
  expect(response.messageResponse.case).toBe("errorResponse");
  return response.messageResponse.case === "errorResponse" ? response.messageResponse.value : undefined;
}

const served: DescService[] = [RecordsService, Health, ServerReflection];

describe("ReflectionService, called directly", () => {
  const reflection = new ReflectionService(served);

  it("lists exactly the services it was given", () => {
    const response = ask(reflection, { messageRequest: { case: "listServices", value: "*" } });
    expect(response.messageResponse.case).toBe("listServicesResponse");
    const names = response.messageResponse.case === "listServicesResponse" ? response.messageResponse.value.service.map((s) => s.name) : [];
    expect(names).toEqual(["dataexchange.records.v1.RecordsService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"]);
  });

  it("finds the file of a method with its imports, and the files link into a registry on their own", () => {
    const files = filesOf(ask(reflection, { messageRequest: { case: "fileContainingSymbol", value: "dataexchange.records.v1.RecordsService.StreamRecords" } }));
    expect(files[0]?.name).toBe("dataexchange/records/v1/records.proto");
    const names = files.map((f) => f.name);
    expect(names).toContain("google/protobuf/timestamp.proto");
    expect(names).toContain("google/protobuf/struct.proto");
    // What buf curl and grpcurl do with the answer: build descriptors from the bytes alone.
    const registry = createFileRegistry(files[0]!, (name) => files.find((f) => f.name === name));
    const service = registry.getService("dataexchange.records.v1.RecordsService");
    expect(service?.methods.map((m) => m.name)).toEqual(RecordsService.methods.map((m) => m.name));
  });

  it.each([
    ["a service", "grpc.health.v1.Health", "grpc/health/v1/health.proto"],
    ["a message", "dataexchange.records.v1.StreamRecordsRequest", "dataexchange/records/v1/records.proto"],
    ["a nested enum", "grpc.health.v1.HealthCheckResponse.ServingStatus", "grpc/health/v1/health.proto"],
    ["an enum value", "grpc.health.v1.HealthCheckResponse.SERVING", "grpc/health/v1/health.proto"],
    ["a field", "grpc.health.v1.HealthCheckRequest.service", "grpc/health/v1/health.proto"],
    ["a well-known type reached through an import", "google.protobuf.Timestamp", "google/protobuf/timestamp.proto"],
    ["a name with protoc's leading dot", ".grpc.health.v1.Health", "grpc/health/v1/health.proto"],
  ])("finds the file containing %s", (_what, symbol, file) => {
    expect(filesOf(ask(reflection, { messageRequest: { case: "fileContainingSymbol", value: symbol } }))[0]?.name).toBe(file);
  });

  it("finds a file by its name, imports included", () => {
    const files = filesOf(ask(reflection, { messageRequest: { case: "fileByFilename", value: "dataexchange/records/v1/records.proto" } }));
    expect(files.map((f) => f.name)).toEqual(expect.arrayContaining(["dataexchange/records/v1/records.proto", "google/protobuf/struct.proto"]));
  });

  it("answers an unknown symbol with an error_response NOT_FOUND, echoing the request", () => {
    const response = ask(reflection, { host: "h", messageRequest: { case: "fileContainingSymbol", value: "no.such.Thing" } });
    expect(errorOf(response)?.errorCode).toBe(Code.NotFound);
    expect(response.validHost).toBe("h");
    expect(response.originalRequest?.messageRequest).toEqual({ case: "fileContainingSymbol", value: "no.such.Thing" });
  });

  it("answers an unknown file and an unknown extension with NOT_FOUND", () => {
    expect(errorOf(ask(reflection, { messageRequest: { case: "fileByFilename", value: "nope.proto" } }))?.errorCode).toBe(Code.NotFound);
    const extension = { case: "fileContainingExtension" as const, value: { containingType: "grpc.health.v1.HealthCheckRequest", extensionNumber: 100 } };
    expect(errorOf(ask(reflection, { messageRequest: extension }))?.errorCode).toBe(Code.NotFound);
  });

  it("reports no extension numbers for a known type and NOT_FOUND for an unknown one", () => {
    const known = ask(reflection, { messageRequest: { case: "allExtensionNumbersOfType", value: "grpc.health.v1.HealthCheckRequest" } });
    expect(known.messageResponse.case === "allExtensionNumbersResponse" && known.messageResponse.value.extensionNumber).toEqual([]);
    const unknown = ask(reflection, { messageRequest: { case: "allExtensionNumbersOfType", value: "no.Such" } });
    expect(errorOf(unknown)?.errorCode).toBe(Code.NotFound);
  });

  it("answers a request with nothing set with INVALID_ARGUMENT", () => {
    expect(errorOf(ask(reflection, {}))?.errorCode).toBe(Code.InvalidArgument);
  });
});

describe("ReflectionService, over an in-memory Connect transport", () => {
  const transport = createRouterTransport((router) => {
    router.service(RecordsService, {});
    router.service(Health, {});
    registerReflection(router);
  });

  async function* requests(...inits: RequestInit[]): AsyncIterable<ServerReflectionRequest> {
    for (const init of inits) yield create(ServerReflectionRequestSchema, init);
  }

  it("answers each request of the bidi stream in order, errors included, without failing the stream", async () => {
    const client = createClient(ServerReflection, transport);
    const answers: (string | undefined)[] = [];
    for await (const response of client.serverReflectionInfo(
      requests(
        { messageRequest: { case: "listServices", value: "" } },
        { messageRequest: { case: "fileContainingSymbol", value: "no.such.Thing" } },
        { messageRequest: { case: "fileContainingSymbol", value: "dataexchange.records.v1.RecordsService" } },
      ),
    )) {
      answers.push(response.messageResponse.case);
    }
    expect(answers).toEqual(["listServicesResponse", "errorResponse", "fileDescriptorResponse"]);
  });

  it("lists the routed services and both reflection versions", async () => {
    const client = createClient(ServerReflection, transport);
    for await (const response of client.serverReflectionInfo(requests({ messageRequest: { case: "listServices", value: "" } }))) {
      const names = response.messageResponse.case === "listServicesResponse" ? response.messageResponse.value.service.map((s) => s.name) : [];
      expect(names).toEqual(["dataexchange.records.v1.RecordsService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]);
    }
  });

  it("serves v1alpha with the same answers, for older clients", async () => {
    // v1alpha is v1 under another package name: same fields, so v1's types describe its shapes.
    const client = createClient(ServerReflectionV1Alpha as unknown as typeof ServerReflection, transport);
    const answers: (string | undefined)[] = [];
    for await (const response of client.serverReflectionInfo(requests({ messageRequest: { case: "fileContainingSymbol", value: "grpc.health.v1.Health" } }))) {
      answers.push(response.messageResponse.case);
    }
    expect(answers).toEqual(["fileDescriptorResponse"]);
  });
});
