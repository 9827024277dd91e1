import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordsService } from "../../gen/dataexchange/records/v1/records_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ServerReflection, type ServerReflectionResponse } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { createGrpcJsClient, type GrpcJsClient } from "../support/grpc-js-client.js";
import { ServingStatus } from "../../services/shared/rpc/health-service.js";
import { startRpcServer } from "../../services/shared/rpc/serve.js";
import { RECORDS, startFixture, type Fixture } from "./rpc-fixture.js";

function serviceError(e: unknown): ServiceError {
  expect(e).toHaveProperty("code");
  return e as ServiceError;
}

describe("a plain @grpc/grpc-js client against the one-port server", () => {
  let fx: Fixture;
  let health: GrpcJsClient<typeof Health>;
  beforeAll(async () => {
    fx = await startFixture();
    health = createGrpcJsClient(Health, fx.address);
  });
  afterAll(async () => {
    health?.close();
    await fx?.server.close();
  });

  it("calls a unary method and gets a protobuf-es message back", async () => {
    const response = await health.check({ service: RECORDS });
    expect(response.$typeName).toBe("grpc.health.v1.HealthCheckResponse");
    expect(response.status).toBe(ServingStatus.SERVING);
  });

  it("accepts an http:// URL as the address", async () => {
    const client = createGrpcJsClient(Health, fx.server.url);
    try {
      expect((await client.check({})).status).toBe(ServingStatus.SERVING);
    } finally {
      client.close();
    }
  });

  it("rejects with the gRPC status of a failed call", async () => {
    const error = serviceError(await health.check({ service: "no.such.Service" }).catch((e: unknown) => e));
    expect(error.code).toBe(GrpcStatus.NOT_FOUND);
    expect(error.details).toContain("no.such.Service");
  });

  it("sees UNIMPLEMENTED for a routed method without implementation", async () => {
    const records = createGrpcJsClient(RecordsService, fx.address);
    try {
      const error = serviceError(await records.getRecord({}).catch((e: unknown) => e));
      expect(error.code).toBe(GrpcStatus.UNIMPLEMENTED);
    } finally {
      records.close();
    }
  });

  it("iterates a server stream: Watch sends the current status, then each change", async () => {
    const seen: ServingStatus[] = [];
    for await (const response of health.watch({ service: RECORDS })) {
      seen.push(response.status);
      if (seen.length === 1) fx.health.setStatus(RECORDS, ServingStatus.NOT_SERVING);
      else break;
    }
    fx.health.setStatus(RECORDS, ServingStatus.SERVING);
    expect(seen).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
  });

  it("ends a server stream with DEADLINE_EXCEEDED when its timeout passes", async () => {
    const error = serviceError(
      await (async () => {
        for await (const _ of health.watch({ service: RECORDS }, { timeoutMs: 100 })) {
          // keep waiting for changes that never come
        }
      })().catch((e: unknown) => e),
    );
    expect(error.code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
  });

  it("drives a bidi stream: reflection answers each written request, then ends after end()", async () => {
    const reflection = createGrpcJsClient(ServerReflection, fx.address);
    try {
      const call = reflection.serverReflectionInfo();
      const responses = call[Symbol.asyncIterator]();
      const next = async (): Promise<ServerReflectionResponse> => {
        const result = await responses.next();
        expect(result.done).toBe(false);
        return result.value as ServerReflectionResponse;
      };

      await call.write({ messageRequest: { case: "listServices", value: "" } });
      const listed = await next();
      expect(listed.messageResponse.case === "listServicesResponse" && listed.messageResponse.value.service.map((s) => s.name)).toContain(RECORDS);

      await call.write({ messageRequest: { case: "fileContainingSymbol", value: `${RECORDS}.GetRecord` } });
      const file = await next();
      const names = file.messageResponse.case === "fileDescriptorResponse" ? file.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name) : [];
      expect(names).toEqual(expect.arrayContaining(["dataexchange/records/v1/records.proto", "google/protobuf/timestamp.proto"]));

      await call.write({ messageRequest: { case: "fileContainingSymbol", value: "no.such.Symbol" } });
      const missing = await next();
      expect(missing.messageResponse.case === "errorResponse" && missing.messageResponse.value.errorCode).toBe(GrpcStatus.NOT_FOUND);

      call.end();
      expect((await responses.next()).done).toBe(true);
    } finally {
      reflection.close();
    }
  });

  it("cancels the call on the server when the caller breaks out of a server stream", async () => {
    let serverSawEnd!: () => void;
    const ended = new Promise<void>((resolve) => (serverSawEnd = resolve));
    const server = await startRpcServer({
      routes: (router) =>
        router.service(Health, {
          async *watch(_request, context) {
            try {
              for (let _i = 0; !context.signal.aborted; _i++) {
                yield { status: ServingStatus.SERVING };
                await new Promise((resolve) => setTimeout(resolve, 5));
              }
            } finally {
              serverSawEnd();
            }
          },
        }),
    });
    const client = createGrpcJsClient(Health, server.url);
    try {
      let count = 0;
      for await (const _ of client.watch({})) {
        if (++count === 2) break;
      }
      await ended; // the test times out if the server never hears of it
    } finally {
      client.close();
      await server.close();
    }
  });
});
