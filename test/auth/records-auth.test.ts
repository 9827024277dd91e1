/**
 * The records service with authentication on, behind a real server on port 0:
 * every role against every RPC, through a Connect client (gRPC protocol) and a
 * plain @grpc/grpc-js client; health and reflection without a token; bad
 * tokens; and the principal handed to handlers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { RecordsService as RecordsServiceImpl } from "../../services/records/records-service.js";
import { buildRecordsServer, type RunningRecordsServer } from "../../services/records/server.js";
import { ensureIndexes } from "../../services/records/store/collections.js";
import { RECORDS_ACCESS_POLICY, RECORDS_METHOD_RULES } from "../../services/records/access-policy.js";
import { createAuthInterceptor, principalOf } from "../../services/shared/auth/index.js";
import { createGrpcJsClient, type GrpcJsClient } from "../support/grpc-js-client.js";
import { DescribeEntityResponseSchema, Entity, RecordsService, WriteMode } from "../../gen/dataexchange/records/v1/records_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { ServerReflection } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { openTestDatabase, type TestDatabase } from "../support/database.js";
import { testServiceLogger } from "../support/service-logger.js";
import { collect, courseRecord, fromArray, handlerContext, writeRequest } from "../records/fixtures.js";
import { TRANSFER_AUDIENCE, edKeys, hs256WithPublicKey, token, unsecuredToken, verifierFor } from "./support.js";

const keys = edKeys();
const verifier = verifierFor(keys);
let t: TestDatabase;
let running: RunningRecordsServer;

beforeAll(async () => {
  t = await openTestDatabase("records_auth");
  await ensureIndexes(t.db);
  await collect(new RecordsServiceImpl(t.db).writeRecords(fromArray([writeRequest(Entity.COURSES, [courseRecord("AUTH1")])]), handlerContext()));
  // Logs as in production, into the run's capture (checked for the tokens used here at the end of the run).
  running = await buildRecordsServer({ db: t.db, port: 0, auth: { verifier }, logger: testServiceLogger("records") });
});
afterAll(async () => {
  await running?.close();
  await t?.close();
});

type Headers = Record<string, string>;
export const bearer = async (roles: string[], sub = "alice"): Promise<Headers> => ({ authorization: `Bearer ${await token(keys, { roles, sub })}` });

const RPCS = ["streamRecords", "getRecord", "countRecords", "describeEntity", "writeRecords", "writeRecordsDryRun", "putRecord", "putRecordDryRun", "deleteRecord"] as const;
type Rpc = (typeof RPCS)[number];
type Outcome = "ok" | keyof typeof Code;

const put = (dryRun: boolean) => ({ entity: Entity.COURSES, mode: WriteMode.UPSERT, record: courseRecord("AUTH1"), dryRun });
const writes = (dryRun: boolean) => [writeRequest(Entity.COURSES, [courseRecord("AUTH1")], { mode: WriteMode.UPSERT, dryRun })];

/** NOT_FOUND (deleting a course that is not there) means the call got past authorization. */
function outcomeOf(code: Code): Outcome {
  return code === Code.NotFound ? "ok" : (Code[code] as keyof typeof Code);
}

async function viaConnect(client: Client<typeof RecordsService>, rpc: Rpc, headers: Headers): Promise<Outcome> {
  const options = { headers };
  try {
    switch (rpc) {
      case "streamRecords":
        await collect(client.streamRecords({ entity: Entity.COURSES }, options));
        break;
      case "getRecord":
        await client.getRecord({ entity: Entity.COURSES, key: { parts: ["AUTH1"] } }, options);
        break;
      case "countRecords":
        await client.countRecords({ entity: Entity.COURSES }, options);
        break;
      case "describeEntity":
        await client.describeEntity({ entity: Entity.COURSES }, options);
        break;
      case "writeRecords":
      case "writeRecordsDryRun":
        await collect(client.writeRecords(fromArray(writes(rpc === "writeRecordsDryRun")), options));
        break;
      case "putRecord":
      case "putRecordDryRun":
        await client.putRecord(put(rpc === "putRecordDryRun"), options);
        break;
      case "deleteRecord":
        await client.deleteRecord({ entity: Entity.COURSES, key: { parts: ["NO-SUCH-COURSE"] } }, options);
        break;
    }
    return "ok";
  } catch (error) {
    return outcomeOf(ConnectError.from(error).code);
  }
}

async function viaGrpcJs(client: GrpcJsClient<typeof RecordsService>, rpc: Rpc, headers: Headers): Promise<Outcome> {
  const options = { headers };
  try {
    switch (rpc) {
      case "streamRecords":
        await collect(client.streamRecords({ entity: Entity.COURSES }, options));
        break;
      case "getRecord":
        await client.getRecord({ entity: Entity.COURSES, key: { parts: ["AUTH1"] } }, options);
        break;
      case "countRecords":
        await client.countRecords({ entity: Entity.COURSES }, options);
        break;
      case "describeEntity":
        await client.describeEntity({ entity: Entity.COURSES }, options);
        break;
      case "writeRecords":
      case "writeRecordsDryRun": {
        const call = client.writeRecords(options);
        for (const request of writes(rpc === "writeRecordsDryRun")) await call.write(request);
        call.end();
        await collect(call);
        break;
      }
      case "putRecord":
      case "putRecordDryRun":
        await client.putRecord(put(rpc === "putRecordDryRun"), options);
        break;
      case "deleteRecord":
        await client.deleteRecord({ entity: Entity.COURSES, key: { parts: ["NO-SUCH-COURSE"] } }, options);
        break;
    }
    return "ok";
  } catch (error) {
    return outcomeOf((error as { code: Code }).code);
  }
}

/** What each role may call: written out here, independently of access-policy.ts. */
const ALLOWED: Record<string, Rpc[]> = {
  admin: [...RPCS],
  importer: ["describeEntity", "writeRecords", "writeRecordsDryRun", "putRecord", "putRecordDryRun"],
  exporter: ["streamRecords", "getRecord", "countRecords", "describeEntity"],
  auditor: [],
  pii: [],
  "(no roles)": [],
  "unknown-role": [],
};

function expectedFor(role: string): Record<Rpc, Outcome> {
  return Object.fromEntries(RPCS.map((rpc) => [rpc, ALLOWED[role]!.includes(rpc) ? "ok" : "PermissionDenied"])) as Record<Rpc, Outcome>;
}

describe("each role against each records RPC", () => {
  for (const role of Object.keys(ALLOWED)) {
    const roles = role === "(no roles)" ? [] : [role];
    it(`${role}: a Connect client and a grpc-js client get the same, expected answers`, async () => {
      const headers = await bearer(roles);
      const connect = createClient(RecordsService, createGrpcTransport({ baseUrl: running.url }));
      const grpcJs = createGrpcJsClient(RecordsService, running.url);
      try {
        const viaC: Record<string, Outcome> = {};
        const viaG: Record<string, Outcome> = {};
        for (const rpc of RPCS) {
          viaC[rpc] = await viaConnect(connect, rpc, headers);
          viaG[rpc] = await viaGrpcJs(grpcJs, rpc, headers);
        }
        expect(viaC).toEqual(expectedFor(role));
        expect(viaG).toEqual(expectedFor(role));
      } finally {
        grpcJs.close();
      }
    });
  }

  it("a permission denial says what was needed and who asked", async () => {
    const client = createClient(RecordsService, createGrpcTransport({ baseUrl: running.url }));
    const error = await client.deleteRecord({ entity: Entity.COURSES, key: { parts: ["AUTH1"] } }, { headers: await bearer(["exporter"], "bob") }).catch((e: unknown) => ConnectError.from(e));
    expect(error).toMatchObject({ code: Code.PermissionDenied, rawMessage: "permission denied: delete on courses needs one of the roles admin; bob (roles exporter) may not" });
  });

  it("refuses a forbidden WriteRecords stream at its first batch, before anything is written", async () => {
    const client = createClient(RecordsService, createGrpcTransport({ baseUrl: running.url }));
    const error = await collect(client.writeRecords(fromArray([writeRequest(Entity.COURSES, [courseRecord("AUTH-NEVER")])]), { headers: await bearer(["exporter"]) })).catch((e: unknown) =>
      ConnectError.from(e),
    );
    expect(error).toMatchObject({ code: Code.PermissionDenied });
    const admin = await bearer(["admin"]);
    expect((await client.countRecords({ entity: Entity.COURSES, filter: { keys: [{ parts: ["AUTH-NEVER"] }] } }, { headers: admin })).count).toBe(0n);
  });
});

describe("without a valid token", () => {
  const bad: [string, () => Promise<Headers>, RegExp][] = [
    ["no authorization header", async () => ({}), /^missing bearer token/],
    ["a Basic header", async () => ({ authorization: "Basic YWxpY2U6c2VjcmV0" }), /unsupported authorization scheme/],
    ["a malformed token", async () => ({ authorization: "Bearer not-a-jwt" }), /^malformed token/],
    ["an expired token", async () => ({ authorization: `Bearer ${await token(keys, { roles: ["admin"], expIn: -600 })}` }), /^token expired at/],
    [
      "a token for the transfer service",
      async () => ({ authorization: `Bearer ${await token(keys, { roles: ["admin"], aud: TRANSFER_AUDIENCE })}` }),
      /^token audience does not include "dataexchange-records"$/,
    ],
    ["a token signed by another key", async () => ({ authorization: `Bearer ${await token(edKeys(), { roles: ["admin"] })}` }), /^token signature is invalid/],
    ["an alg-none token", async () => ({ authorization: `Bearer ${unsecuredToken()}` }), /"none" is not allowed/],
    ["an HS256 token signed with the public key", async () => ({ authorization: `Bearer ${hs256WithPublicKey(keys.publicKey)}` }), /"HS256" is not allowed/],
  ];
  for (const [what, headers, message] of bad) {
    it(`every RPC answers UNAUTHENTICATED to ${what}, saying why`, async () => {
      const h = await headers();
      const connect = createClient(RecordsService, createGrpcTransport({ baseUrl: running.url }));
      const grpcJs = createGrpcJsClient(RecordsService, running.url);
      try {
        for (const rpc of RPCS) {
          expect([rpc, await viaConnect(connect, rpc, h)]).toEqual([rpc, "Unauthenticated"]);
          expect([rpc, await viaGrpcJs(grpcJs, rpc, h)]).toEqual([rpc, "Unauthenticated"]);
        }
        const error = await connect.describeEntity({ entity: Entity.USERS }, { headers: h }).then(
          () => ConnectError.from(new Error("the call was accepted")),
          (e: unknown) => ConnectError.from(e),
        );
        expect(error.rawMessage).toMatch(message);
        if (h.authorization) expect(error.rawMessage).not.toContain(h.authorization.slice(7));
        expect(error.metadata.get("www-authenticate")).toMatch(/^Bearer realm="dataexchange"/);
      } finally {
        grpcJs.close();
      }
    });
  }
});

describe("health and reflection", () => {
  it("health answers without a token, to Connect and grpc-js clients", async () => {
    const connect = createClient(Health, createGrpcTransport({ baseUrl: running.url }));
    expect((await connect.check({ service: RecordsService.typeName })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    const grpcJs = createGrpcJsClient(Health, running.url);
    try {
      expect((await grpcJs.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    } finally {
      grpcJs.close();
    }
  });

  async function listServices(url: string, headers: Headers = {}): Promise<string[]> {
    const client = createGrpcJsClient(ServerReflection, url);
    try {
      const call = client.serverReflectionInfo({ headers });
      await call.write({ messageRequest: { case: "listServices", value: "" } });
      call.end();
      const [response] = await collect(call);
      return response?.messageResponse.case === "listServicesResponse" ? response.messageResponse.value.service.map((s) => s.name) : [];
    } finally {
      client.close();
    }
  }

  it("reflection lists the services without a token by default", async () => {
    expect(await listServices(running.url)).toContain(RecordsService.typeName);
  });

  it("reflection needs a token (any valid one) when configured so", async () => {
    const strict = await buildRecordsServer({ db: t.db, port: 0, auth: { verifier, reflection: "authenticated" } });
    try {
      await expect(listServices(strict.url)).rejects.toMatchObject({ code: Code.Unauthenticated });
      expect(await listServices(strict.url, await bearer([]))).toContain(RecordsService.typeName);
    } finally {
      await strict.close();
    }
  });
});

describe("the principal in the handler context", () => {
  it("carries subject, roles and effective permissions for handlers to read", async () => {
    const transport = createRouterTransport(
      ({ service }) =>
        service(RecordsService, {
          describeEntity(_request, context) {
            const principal = principalOf(context)!;
            return create(DescribeEntityResponseSchema, { name: principal.subject, label: principal.roles.join(","), keyFields: [...principal.permissions].sort() });
          },
        }),
      { router: { interceptors: [createAuthInterceptor({ verifier, policy: RECORDS_ACCESS_POLICY, rules: RECORDS_METHOD_RULES })] } },
    );
    const answer = await createClient(RecordsService, transport).describeEntity({ entity: Entity.USERS }, { headers: await bearer(["exporter", "pii"], "carol") });
    expect(answer.name).toBe("carol");
    expect(answer.label).toBe("exporter,pii");
    expect(answer.keyFields).toEqual(expect.arrayContaining(["read:users", "count:sessions", "describe:activity", "pii"]));
    expect(answer.keyFields.some((p) => p.startsWith("write:"))).toBe(false);
  });
});
