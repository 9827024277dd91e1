/**
 * Field-level access to personal data (emails, names) and the transfer
 * service's identity acting for a forwarded user, on a real server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { RecordsService as RecordsServiceImpl } from "../../services/records/records-service.js";
import { buildRecordsServer, type RunningRecordsServer } from "../../services/records/server.js";
import { ensureIndexes } from "../../services/records/store/collections.js";
import { ON_BEHALF_OF_HEADER, ON_BEHALF_ROLES_HEADER, onBehalfOfHeaders } from "../../services/shared/auth/index.js";
import { createGrpcJsClient } from "../support/grpc-js-client.js";
import { Entity, Join, RecordsService, StreamRecordsResponseSchema, WriteMode, type EntityRecord } from "../../gen/dataexchange/records/v1/records_pb.js";
import { openTestDatabase, type TestDatabase } from "../support/database.js";
import { testServiceLogger } from "../support/service-logger.js";
import { collect, courseRecord, enrollmentRecord, fromArray, handlerContext, sessionRecord, userRecord, writeRequest } from "../records/fixtures.js";
import { edKeys, token, verifierFor } from "./support.js";

const keys = edKeys();
let t: TestDatabase;
let running: RunningRecordsServer;
let client: Client<typeof RecordsService>;

beforeAll(async () => {
  t = await openTestDatabase("records_pii");
  await ensureIndexes(t.db);
  const service = new RecordsServiceImpl(t.db);
  for (const request of [
    writeRequest(Entity.USERS, [userRecord(1, { password: "correct horse battery" }), userRecord(2, { password: "another secret 1" })]),
    writeRequest(Entity.COURSES, [courseRecord("PII1")]),
    writeRequest(Entity.SESSIONS, [sessionRecord("s1", "user1", "PII1")]),
    writeRequest(Entity.ENROLLMENTS, [enrollmentRecord("user1", "PII1")]),
  ]) {
    const [result] = await collect(service.writeRecords(fromArray([request]), handlerContext()));
    expect(result?.failed).toBe(0);
  }
  // Logs as in production, into the run's capture (checked for the passwords and tokens used here at the end of the run).
  running = await buildRecordsServer({ db: t.db, port: 0, auth: { verifier: verifierFor(keys) }, logger: testServiceLogger("records") });
  client = createClient(RecordsService, createGrpcTransport({ baseUrl: running.url }));
});
afterAll(async () => {
  await running?.close();
  await t?.close();
});

const as = async (roles: string[], extra: Record<string, string> = {}, sub = "alice") => ({ headers: { authorization: `Bearer ${await token(keys, { roles, sub })}`, ...extra } });
const users = (records: EntityRecord[]) => records.map((r) => (r.kind.case === "user" ? r.kind.value : undefined)!);
const sessions = (records: EntityRecord[]) => records.map((r) => (r.kind.case === "session" ? r.kind.value : undefined)!);

async function streamUsers(options: { headers: Record<string, string> }, fields: string[] = []) {
  const batches = await collect(client.streamRecords({ entity: Entity.USERS, fields }, options));
  return users(batches.flatMap((b) => b.records));
}

async function denial(promise: Promise<unknown>): Promise<ConnectError> {
  return promise.then(
    () => {
      throw new Error("expected PERMISSION_DENIED");
    },
    (e: unknown) => ConnectError.from(e),
  );
}

describe("an exporter without pii", () => {
  it("streams users without email and names when it selects no fields", async () => {
    const list = await streamUsers(await as(["exporter"]));
    expect(list.map((u) => u.username).sort()).toEqual(["user1", "user2"]);
    for (const u of list) {
      expect(u.email).toBeUndefined();
      expect(u.firstName).toBeUndefined();
      expect(u.lastName).toBeUndefined();
      expect(u.role).toBe("student");
    }
  });

  it("may select the fields that are not personal", async () => {
    const list = await streamUsers(await as(["exporter"]), ["username", "status"]);
    expect(list.map((u) => [u.username, u.status, u.email])).toEqual(expect.arrayContaining([["user1", "active", undefined]]));
  });

  it("is refused with PERMISSION_DENIED when it selects email or names explicitly", async () => {
    for (const fields of [["email"], ["username", "firstName"], ["lastName"]]) {
      const error = await denial(streamUsers(await as(["exporter"]), fields));
      expect(error.code).toBe(Code.PermissionDenied);
      expect(error.rawMessage).toMatch(/personal data of users and need the "pii" permission/);
    }
  });

  it("is refused when it sorts by email, looks a user up by email, or counts by email", async () => {
    const options = await as(["exporter"]);
    expect((await denial(collect(client.streamRecords({ entity: Entity.USERS, sort: [{ field: "email" }] }, options)))).code).toBe(Code.PermissionDenied);
    expect((await denial(collect(client.streamRecords({ entity: Entity.USERS, filter: { keys: [{ parts: ["user1@example.org"] }] } }, options)))).code).toBe(Code.PermissionDenied);
    expect((await denial(client.getRecord({ entity: Entity.USERS, key: { parts: ["user1@example.org"] } }, options))).rawMessage).toContain("email is personal data");
    expect((await denial(client.countRecords({ entity: Entity.USERS, filter: { keys: [{ parts: ["user1@example.org"] }] } }, options))).code).toBe(Code.PermissionDenied);
    // Filtering by username is not personal.
    expect((await client.countRecords({ entity: Entity.USERS, filter: { userIds: ["user1"] } }, options)).count).toBe(1n);
  });

  it("may list the deletions of courses but not of users, whose keys are email addresses", async () => {
    const options = await as(["exporter"]);
    expect(await collect(client.streamDeletions({ entity: Entity.COURSES }, options))).toBeDefined();
    expect((await denial(collect(client.streamDeletions({ entity: Entity.USERS }, options)))).rawMessage).toContain("email is personal data of users");
    expect(await collect(client.streamDeletions({ entity: Entity.USERS }, await as(["exporter", "pii"])))).toBeDefined();
  });

  it("gets sessions without the joined user name and email, and is refused when it joins them", async () => {
    const options = await as(["exporter"]);
    const got = sessions((await collect(client.streamRecords({ entity: Entity.SESSIONS, joins: [Join.COURSE] }, options))).flatMap((b) => b.records));
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ sessionId: "s1", courseTitle: "Course PII1" });
    expect(got[0]!.userEmail).toBeUndefined();
    expect((await denial(collect(client.streamRecords({ entity: Entity.SESSIONS, joins: [Join.USER] }, options)))).rawMessage).toContain("userName, userEmail are personal data");
    expect((await denial(collect(client.streamRecords({ entity: Entity.SESSIONS, fields: ["sessionId", "userEmail"] }, options)))).code).toBe(Code.PermissionDenied);
    expect((await denial(client.getRecord({ entity: Entity.SESSIONS, key: { parts: ["s1"] }, joins: [Join.USER] }, options))).code).toBe(Code.PermissionDenied);
    expect((await client.getRecord({ entity: Entity.SESSIONS, key: { parts: ["s1"] } }, options)).record?.kind.case).toBe("session");
  });
});

describe("with the pii permission", () => {
  it("an exporter gets emails and names, selected or not, and joined onto sessions", async () => {
    const options = await as(["exporter", "pii"]);
    const list = await streamUsers(options);
    expect(list.find((u) => u.username === "user1")).toMatchObject({ email: "user1@example.org", firstName: "Ada", lastName: "Number 1" });
    expect((await streamUsers(options, ["email"])).map((u) => u.email).sort()).toEqual(["user1@example.org", "user2@example.org"]);
    const joined = sessions((await collect(client.streamRecords({ entity: Entity.SESSIONS, joins: [Join.USER] }, options))).flatMap((b) => b.records));
    expect(joined[0]).toMatchObject({ userEmail: "user1@example.org", userName: "Ada Number 1" });
    const got = await client.getRecord({ entity: Entity.USERS, key: { parts: ["user1@example.org"] } }, options);
    expect(got.record?.kind.value).toMatchObject({ email: "user1@example.org" });
  });
});

describe("an importer", () => {
  it("writes users (emails included) but gets the stored record back without personal fields unless it holds pii", async () => {
    const put = { entity: Entity.USERS, mode: WriteMode.UPSERT, record: userRecord(3, { password: "a new password" }) };
    const plain = await client.putRecord(put, await as(["importer"]));
    expect(plain.record?.kind.value).toMatchObject({ username: "user3" });
    expect(plain.record?.kind.value).not.toHaveProperty("email", expect.anything());
    const withPii = await client.putRecord({ ...put, record: userRecord(3, { password: "a new password", lastName: "Three" }) }, await as(["importer", "pii"]));
    expect(withPii.record?.kind.value).toMatchObject({ email: "user3@example.org", lastName: "Three" });
  });
});

describe("passwords", () => {
  it("are never in any response, whatever the caller's rights", async () => {
    const options = await as(["admin", "pii"]);
    const responses: string[] = [];
    for (const batch of await collect(client.streamRecords({ entity: Entity.USERS }, options))) responses.push(toJsonString(StreamRecordsResponseSchema, batch));
    const got = await client.getRecord({ entity: Entity.USERS, key: { parts: ["user1@example.org"] } }, options);
    const put = await client.putRecord({ entity: Entity.USERS, mode: WriteMode.MERGE, record: userRecord(1, { password: "changed password" }) }, options);
    for (const record of [got.record, put.record]) {
      expect(record?.kind.case).toBe("user");
      expect(record?.kind.value).toMatchObject({ email: "user1@example.org" });
      expect((record?.kind.value as { password?: string }).password).toBeUndefined();
    }
    expect(responses.join("")).toContain("user1@example.org");
    expect(responses.join("")).not.toMatch(/password|correct horse|scrypt/i);
    expect((await denial(streamUsers(options, ["password"]))).code).toBe(Code.InvalidArgument);
  });
});

describe("the transfer service's identity", () => {
  const service = (forward?: { subject: string; roles: string[] }) => as(["service"], forward ? onBehalfOfHeaders(forward) : {}, "transfer-service");

  it("alone may describe entities and nothing else", async () => {
    const options = await service();
    expect((await client.describeEntity({ entity: Entity.USERS }, options)).name).toBe("users");
    const error = await denial(collect(client.streamRecords({ entity: Entity.COURSES }, options)));
    expect(error.code).toBe(Code.PermissionDenied);
  });

  it("acting for an exporter gets the intersection: reads, but no writes and no personal data", async () => {
    const options = await service({ subject: "dora", roles: ["exporter"] });
    const list = await streamUsers(options);
    expect(list).toHaveLength(3);
    expect(list.every((u) => u.email === undefined)).toBe(true);
    const error = await denial(client.putRecord({ entity: Entity.COURSES, mode: WriteMode.UPSERT, record: courseRecord("PII2") }, options));
    expect(error.rawMessage).toBe("permission denied: write on courses needs one of the roles admin, importer; transfer-service acting for dora (roles exporter) may not");
  });

  it("acting for an exporter with pii sees personal data", async () => {
    const list = await streamUsers(await service({ subject: "erin", roles: ["exporter", "pii"] }));
    expect(list.map((u) => u.email).sort()).toEqual(["user1@example.org", "user2@example.org", "user3@example.org"]);
  });

  it("acting for an admin still cannot delete: the service's own ceiling has no delete", async () => {
    const options = await service({ subject: "root", roles: ["admin", "pii"] });
    expect((await denial(client.deleteRecord({ entity: Entity.COURSES, key: { parts: ["PII1"] } }, options))).code).toBe(Code.PermissionDenied);
    expect((await collect(client.streamRecords({ entity: Entity.COURSES }, options))).length).toBeGreaterThan(0);
  });

  it("cannot forward the service role itself, and must name the user it forwards roles for", async () => {
    const chained = await service({ subject: "frank", roles: ["service"] });
    expect((await denial(collect(client.streamRecords({ entity: Entity.COURSES }, chained)))).code).toBe(Code.PermissionDenied);
    const anonymous = await as(["service"], { [ON_BEHALF_ROLES_HEADER]: "admin" }, "transfer-service");
    expect((await denial(client.describeEntity({ entity: Entity.USERS }, anonymous))).code).toBe(Code.InvalidArgument);
  });

  it("works the same for a grpc-js caller", async () => {
    const grpcJs = createGrpcJsClient(RecordsService, running.url);
    try {
      const list = await collect(grpcJs.streamRecords({ entity: Entity.USERS }, await service({ subject: "gina", roles: ["exporter"] })));
      expect(users(list.flatMap((b) => b.records)).every((u) => u.email === undefined && u.username !== undefined)).toBe(true);
    } finally {
      grpcJs.close();
    }
  });
});

describe("a normal client sending the forwarding headers", () => {
  it("gets no extra rights: the headers are ignored", async () => {
    const options = await as(["exporter"], { [ON_BEHALF_OF_HEADER]: "root", [ON_BEHALF_ROLES_HEADER]: "admin,pii" });
    expect((await streamUsers(options)).every((u) => u.email === undefined)).toBe(true);
    const error = await denial(client.deleteRecord({ entity: Entity.COURSES, key: { parts: ["PII1"] } }, options));
    expect(error.rawMessage).toContain("alice (roles exporter) may not");
    expect((await denial(streamUsers(options, ["email"]))).code).toBe(Code.PermissionDenied);
  });
});
