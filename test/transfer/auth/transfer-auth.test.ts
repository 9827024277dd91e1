/**
 * The transfer service with authentication on, behind a real server on port
 * 0 and calling a records service that authenticates too: every role against
 * every transfer RPC, through a Connect client and a plain @grpc/grpc-js
 * client; bad tokens; tokens replayed across the two services; health and
 * reflection without a token.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Entity, WriteMode } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { ExportRequestSchema, ExportSource, ImportHeaderSchema, TransferService } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../../gen/grpc/health/v1/health_pb.js";
import { createGrpcJsClient, type GrpcJsClient } from "../../support/grpc-js-client.js";
import { edKeys, token, TRANSFER_AUDIENCE } from "../../auth/support.js";
import { course, importFile, seed, type TransferClient } from "../rpc/harness.js";
import { adminRecordsClient, as, asAtRecords, recordsToken, startAuthServices, transferToken, type AuthServices } from "./auth-harness.js";

let s: AuthServices;
/** Each test subject's own job, and a job of someone else. */
const ownJob = new Map<string, string>();
let otherJob = "";

const ROLES = ["admin", "importer", "exporter", "auditor", "pii", "service", "(no roles)", "unknown-role"] as const;
const subjectOf = (role: string) => `u-${role.replace(/[^a-z]/g, "")}`;
const rolesOf = (role: string) => (role === "(no roles)" ? [] : [role]);

async function importJobAs(sub: string): Promise<string> {
  const result = await importFile(s.client, { entity: Entity.COURSES, format: "ndjson", mode: WriteMode.UPSERT }, `{"code":"OWN-${sub}","title":"t"}\n{"code":"","title":"bad"}\n`, {
    headers: await as(["admin"], sub),
  });
  return result.jobId;
}

beforeAll(async () => {
  s = await startAuthServices();
  await seed(adminRecordsClient(s.records.url), Entity.COURSES, ["AUTH-1", "AUTH-2"].map(course));
  for (const role of ROLES) ownJob.set(role, await importJobAs(subjectOf(role)));
  otherJob = await importJobAs("zed");
});
afterAll(async () => s?.close());

const RPCS = [
  "listFormats",
  "describeEntity",
  "export",
  "exportAuditTrail",
  "import",
  "importDryRun",
  "getOwnJob",
  "getOthersJob",
  "listJobs",
  "getOwnFailedRows",
  "getOthersFailedRows",
  "cancelOwnJob",
  "cancelOthersJob",
  "listAuditEvents",
] as const;
type Rpc = (typeof RPCS)[number];
type Outcome = "ok" | keyof typeof Code;
type Headers = Record<string, string>;

const exportRequest = (rpc: Rpc) =>
  rpc === "exportAuditTrail" ? create(ExportRequestSchema, { source: ExportSource.AUDIT_EVENTS, format: "csv" }) : create(ExportRequestSchema, { entity: Entity.COURSES, format: "csv" });
const importHeader = (rpc: Rpc) => create(ImportHeaderSchema, { entity: Entity.COURSES, format: "ndjson", mode: WriteMode.UPSERT, dryRun: rpc === "importDryRun" });
const importBody = Buffer.from('{"code":"AUTH-1","title":"Again"}\n');

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream) void _;
}

async function viaConnect(client: TransferClient, rpc: Rpc, role: string, headers: Headers): Promise<Outcome> {
  const options = { headers };
  const own = ownJob.get(role)!;
  try {
    switch (rpc) {
      case "listFormats":
        await client.listFormats({}, options);
        break;
      case "describeEntity":
        await client.describeEntity({ entity: Entity.COURSES }, options);
        break;
      case "export":
      case "exportAuditTrail":
        await drain(client.export(exportRequest(rpc), options));
        break;
      case "import":
      case "importDryRun":
        await importFile(client, importHeader(rpc), importBody, { headers });
        break;
      case "getOwnJob":
      case "getOthersJob":
        await client.getJob({ jobId: rpc === "getOwnJob" ? own : otherJob }, options);
        break;
      case "listJobs":
        await client.listJobs({}, options);
        break;
      case "getOwnFailedRows":
      case "getOthersFailedRows":
        await drain(client.getFailedRows({ jobId: rpc === "getOwnFailedRows" ? own : otherJob }, options));
        break;
      case "cancelOwnJob":
      case "cancelOthersJob":
        await client.cancelJob({ jobId: rpc === "cancelOwnJob" ? own : otherJob }, options);
        break;
      case "listAuditEvents":
        await client.listAuditEvents({}, options);
        break;
    }
    return "ok";
  } catch (error) {
    return Code[ConnectError.from(error).code] as keyof typeof Code;
  }
}

async function viaGrpcJs(client: GrpcJsClient<typeof TransferService>, rpc: Rpc, role: string, headers: Headers): Promise<Outcome> {
  const options = { headers };
  const own = ownJob.get(role)!;
  try {
    switch (rpc) {
      case "listFormats":
        await client.listFormats({}, options);
        break;
      case "describeEntity":
        await client.describeEntity({ entity: Entity.COURSES }, options);
        break;
      case "export":
      case "exportAuditTrail":
        await drain(client.export(exportRequest(rpc), options));
        break;
      case "import":
      case "importDryRun": {
        const call = client.import(options);
        await call.write({ message: { case: "header", value: importHeader(rpc) } });
        await call.write({ message: { case: "chunk", value: importBody } });
        call.end();
        await drain(call);
        break;
      }
      case "getOwnJob":
      case "getOthersJob":
        await client.getJob({ jobId: rpc === "getOwnJob" ? own : otherJob }, options);
        break;
      case "listJobs":
        await client.listJobs({}, options);
        break;
      case "getOwnFailedRows":
      case "getOthersFailedRows":
        await drain(client.getFailedRows({ jobId: rpc === "getOwnFailedRows" ? own : otherJob }, options));
        break;
      case "cancelOwnJob":
      case "cancelOthersJob":
        await client.cancelJob({ jobId: rpc === "cancelOwnJob" ? own : otherJob }, options);
        break;
      case "listAuditEvents":
        await client.listAuditEvents({}, options);
        break;
    }
    return "ok";
  } catch (error) {
    return Code[(error as { code: Code }).code] as keyof typeof Code;
  }
}

/** What each role may call: written out here, independently of access-policy.ts. */
const ALLOWED: Record<(typeof ROLES)[number], Rpc[]> = {
  admin: [...RPCS],
  importer: ["listFormats", "describeEntity", "import", "importDryRun", "getOwnJob", "listJobs", "getOwnFailedRows", "cancelOwnJob"],
  exporter: ["listFormats", "describeEntity", "export", "getOwnJob", "listJobs", "getOwnFailedRows", "cancelOwnJob"],
  auditor: ["listFormats", "exportAuditTrail", "getOwnJob", "getOthersJob", "listJobs", "getOwnFailedRows", "getOthersFailedRows", "listAuditEvents"],
  pii: [],
  service: [],
  "(no roles)": [],
  "unknown-role": [],
};

describe("each role against each transfer RPC", () => {
  for (const role of ROLES) {
    it(`${role}: a Connect client and a grpc-js client get the same, expected answers`, async () => {
      const headers = await as(rolesOf(role), subjectOf(role));
      const grpcJs = createGrpcJsClient(TransferService, s.transfer.url);
      try {
        const expected = Object.fromEntries(RPCS.map((rpc) => [rpc, ALLOWED[role].includes(rpc) ? "ok" : "PermissionDenied"]));
        const viaC: Record<string, Outcome> = {};
        const viaG: Record<string, Outcome> = {};
        for (const rpc of RPCS) viaC[rpc] = await viaConnect(s.client, rpc, role, headers);
        for (const rpc of RPCS) viaG[rpc] = await viaGrpcJs(grpcJs, rpc, role, headers);
        expect(viaC).toEqual(expected);
        expect(viaG).toEqual(expected);
      } finally {
        grpcJs.close();
      }
    });
  }

  it("a denial says what was needed and who asked", async () => {
    const error = await drain(s.client.export({ entity: Entity.COURSES, format: "csv" }, { headers: await as(["importer"], "bob") })).catch((e: unknown) => ConnectError.from(e));
    expect(error).toMatchObject({ code: Code.PermissionDenied, rawMessage: "permission denied: export of courses needs one of the roles admin, exporter; bob (roles importer) may not" });
    const other = await s.client.getJob({ jobId: otherJob }, { headers: await as(["exporter"], "bob") }).catch((e: unknown) => ConnectError.from(e));
    expect(other).toMatchObject({ code: Code.PermissionDenied });
    expect((other as ConnectError).rawMessage).toMatch(/^permission denied: job .* belongs to another user; reading other users' jobs needs one of the roles admin, auditor/);
  });

  it("ListJobs shows importers and exporters their own jobs only, and refuses to list someone else's", async () => {
    const mine = await s.client.listJobs({}, { headers: await as(["importer"], subjectOf("importer")) });
    expect(mine.jobs.length).toBeGreaterThan(0);
    expect(new Set(mine.jobs.map((j) => j.subject))).toEqual(new Set([subjectOf("importer")]));
    await expect(s.client.listJobs({ subject: "zed" }, { headers: await as(["importer"], subjectOf("importer")) })).rejects.toMatchObject({ code: Code.PermissionDenied });
    const all = await s.client.listJobs({ pageSize: 500 }, { headers: await as(["auditor"], "audrey") });
    expect(all.jobs.map((j) => j.subject)).toEqual(expect.arrayContaining(["zed", subjectOf("importer"), subjectOf("exporter")]));
  });

  it("the Connect protocol (JSON and binary, as backends and browsers call) gets the same answers", async () => {
    for (const useBinaryFormat of [false, true]) {
      const client = createClient(TransferService, createConnectTransport({ baseUrl: s.transfer.url, httpVersion: "2", useBinaryFormat }));
      const outcomes: Record<string, Outcome> = {};
      for (const role of ["admin", "exporter", "auditor", "(no roles)"] as const) {
        const headers = await as(rolesOf(role), subjectOf(role));
        for (const rpc of ["listFormats", "export", "getOthersJob", "listAuditEvents"] as const) outcomes[`${role} ${rpc}`] = await viaConnect(client, rpc, role, headers);
      }
      outcomes["no token"] = await viaConnect(client, "listFormats", "admin", {});
      expect(outcomes).toEqual({
        "admin listFormats": "ok",
        "admin export": "ok",
        "admin getOthersJob": "ok",
        "admin listAuditEvents": "ok",
        "exporter listFormats": "ok",
        "exporter export": "ok",
        "exporter getOthersJob": "PermissionDenied",
        "exporter listAuditEvents": "PermissionDenied",
        "auditor listFormats": "ok",
        "auditor export": "PermissionDenied",
        "auditor getOthersJob": "ok",
        "auditor listAuditEvents": "ok",
        "(no roles) listFormats": "PermissionDenied",
        "(no roles) export": "PermissionDenied",
        "(no roles) getOthersJob": "PermissionDenied",
        "(no roles) listAuditEvents": "PermissionDenied",
        "no token": "Unauthenticated",
      });
    }
  });

  it("records the token's subject as the job's subject", async () => {
    const result = await importFile(s.client, { entity: Entity.COURSES, format: "ndjson", mode: WriteMode.UPSERT }, '{"code":"SUBJ-1","title":"t"}\n', {
      headers: await as(["importer"], "carol@example.org"),
    });
    const job = await s.client.getJob({ jobId: result.jobId }, { headers: await as(["auditor"], "audrey") });
    expect(job.job?.subject).toBe("carol@example.org");
  });
});

describe("without a valid token", () => {
  const cases: [string, () => Promise<Headers>, RegExp][] = [
    ["no authorization header", async () => ({}), /^missing bearer token/],
    ["an expired token", async () => ({ authorization: `Bearer ${await transferToken(["admin"], "alice", { expIn: -600 })}` }), /^token expired at/],
    [
      "a token for the records service (a records token replayed at transfer)",
      async () => ({ authorization: `Bearer ${await recordsToken(["admin", "pii"])}` }),
      /^token audience does not include "dataexchange-transfer"$/,
    ],
    ["a token signed by another key", async () => ({ authorization: `Bearer ${await token(edKeys(), { roles: ["admin"], aud: TRANSFER_AUDIENCE })}` }), /^token signature is invalid/],
  ];
  for (const [what, headers, message] of cases) {
    it(`every transfer RPC answers UNAUTHENTICATED to ${what}`, async () => {
      const h = await headers();
      const grpcJs = createGrpcJsClient(TransferService, s.transfer.url);
      try {
        for (const rpc of RPCS) {
          expect([rpc, await viaConnect(s.client, rpc, "admin", h)]).toEqual([rpc, "Unauthenticated"]);
          expect([rpc, await viaGrpcJs(grpcJs, rpc, "admin", h)]).toEqual([rpc, "Unauthenticated"]);
        }
      } finally {
        grpcJs.close();
      }
      const error = await s.client.listFormats({}, { headers: h }).then(
        () => new ConnectError("accepted"),
        (e: unknown) => ConnectError.from(e),
      );
      expect(error.rawMessage).toMatch(message);
      expect(error.metadata.get("www-authenticate")).toMatch(/^Bearer realm="dataexchange"/);
    });
  }

  it("a user's transfer token replayed at the records service fails the audience check", async () => {
    const replayed = { authorization: `Bearer ${await transferToken(["admin", "pii"])}` };
    await expect(s.recordsClient.countRecords({ entity: Entity.COURSES }, { headers: replayed })).rejects.toMatchObject({
      code: Code.Unauthenticated,
      rawMessage: 'token audience does not include "dataexchange-records"',
    });
  });

  it("a user token carrying role service gains nothing: not at the transfer service, not at the records service", async () => {
    const headers = await as(["service"], "mallory");
    await expect(s.client.listFormats({}, { headers })).rejects.toMatchObject({ code: Code.PermissionDenied });
    // With forwarded-identity headers of its own making, still nothing: the transfer table grants `service` nothing.
    await expect(s.client.listFormats({}, { headers: { ...headers, "x-dx-on-behalf-of": "root", "x-dx-on-behalf-roles": "admin,pii" } })).rejects.toMatchObject({ code: Code.PermissionDenied });
    // Replayed at the records service it has the wrong audience.
    await expect(s.recordsClient.countRecords({ entity: Entity.COURSES }, { headers: { authorization: headers.authorization! } })).rejects.toMatchObject({ code: Code.Unauthenticated });
  });
});

describe("health and the records calls", () => {
  it("health answers without a token", async () => {
    const grpcJs = createGrpcJsClient(Health, s.transfer.url);
    try {
      expect((await grpcJs.check({ service: TransferService.typeName })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    } finally {
      grpcJs.close();
    }
  });

  it("the records service sees the transfer service, acting for the user, on every records call", async () => {
    // The records audit trail names both: the service that called and the user it called for.
    await importFile(s.client, { entity: Entity.COURSES, format: "ndjson", mode: WriteMode.UPSERT }, '{"code":"OBO-1","title":"t"}\n', { headers: await as(["importer"], "ivy") });
    const page = await s.recordsClient.listAuditEvents({ filter: { subject: "ivy" } }, { headers: await asAtRecords(["auditor"]) });
    expect(page.events[0]).toMatchObject({ subject: "transfer-service", onBehalfOf: "ivy", roles: ["importer"], entity: "courses" });
    expect(page.events[0]!.jobId).not.toBe("");
  });
});
