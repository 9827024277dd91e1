/**
 * Export → import round trips through the TransferService RPCs: records
 * exported from one records service are imported into an empty one and
 * exported again, byte for byte the same, for users, courses and sessions in
 * every shipped format.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { Entity, WriteMode } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { JobState } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { course, exportFile, importFile, seed, session, startServices, user, type Services } from "./harness.js";

const USERS = 120;
const SESSIONS = 200;
const USER_FIELDS = ["email", "username", "firstName", "lastName", "role", "status", "createdAt"];
const SESSION_FIELDS = ["sessionId", "userId", "courseId", "startedAt", "endedAt", "status", "score"];

let source: Services;

beforeAll(async () => {
  source = await startServices();
  await seed(
    source.recordsClient,
    Entity.USERS,
    Array.from({ length: USERS }, (_, i) => user(i)),
  );
  await seed(source.recordsClient, Entity.COURSES, ["AAA-2024", "BBB-2024", "CCC-2024"].map(course));
  await seed(
    source.recordsClient,
    Entity.SESSIONS,
    Array.from({ length: SESSIONS }, (_, i) =>
      session(`s-${String(i).padStart(4, "0")}`, `user${i % USERS}`, ["AAA-2024", "BBB-2024", "CCC-2024"][i % 3]!, i % 5 === 0 ? { score: undefined, endedAt: undefined, status: "active" } : {}),
    ),
  );
});
afterAll(async () => source?.close());

describe.each(["csv", "json", "ndjson", "xlsx", "ods"])("a %s round trip", (format) => {
  let target: Services;
  beforeAll(async () => {
    target = await startServices();
  });
  afterAll(async () => target?.close());

  async function roundTrip(entity: Entity, fields: string[], sortField: string, expected: number) {
    const request = { entity, format, fields, sort: [{ field: sortField }] };
    const first = await exportFile(source.client, request);
    expect(first.summary.records).toBe(BigInt(expected));
    expect(first.summary.sha256).toBe(createHash("sha256").update(first.bytes).digest("hex"));

    const imported = await importFile(target.connectJson, { entity, format, mode: WriteMode.INSERT }, first.bytes, { chunkSize: 997 });
    expect(imported.rowErrors).toEqual([]);
    expect(imported.summary).toMatchObject({ read: BigInt(expected), inserted: BigInt(expected), failed: 0n, state: JobState.SUCCEEDED, sha256: first.summary.sha256 });

    const second = await exportFile(target.connectBinary, request);
    expect(second.bytes.toString("utf8")).toBe(first.bytes.toString("utf8"));
    return first;
  }

  it("carries users, then courses, then sessions that reference them, unchanged", async () => {
    const users = await roundTrip(Entity.USERS, USER_FIELDS, "email", USERS);
    expect(users.header.columns.map((c) => c.key)).toEqual(USER_FIELDS);
    await roundTrip(Entity.COURSES, ["code", "title", "visible"], "code", 3);
    await roundTrip(Entity.SESSIONS, SESSION_FIELDS, "sessionId", SESSIONS);
  });

  it("imports the same file again as unchanged records in upsert mode", async () => {
    const file = await exportFile(source.client, { entity: Entity.USERS, format, fields: USER_FIELDS });
    const again = await importFile(target.client, { entity: Entity.USERS, format, mode: WriteMode.UPSERT }, file.bytes);
    expect(again.summary).toMatchObject({ read: BigInt(USERS), inserted: 0n, updated: 0n, unchanged: BigInt(USERS), failed: 0n });
  });
});

describe("an export", () => {
  it("starts with a header, interleaves chunks with progress, and ends with a summary", async () => {
    const result = await exportFile(source.connectJson, { entity: Entity.USERS, format: "csv", estimateTotal: true });
    expect(result.order[0]).toBe("header");
    expect(result.order.at(-1)).toBe("summary");
    expect(result.order.filter((e) => e === "chunk").length).toBeGreaterThan(0);
    expect(result.header).toMatchObject({ mimeType: "text/csv" });
    expect(result.header.fileName).toMatch(/^users-\d{8}-\d{6}\.csv$/);
    expect(result.header.columns.map((c) => c.key)).not.toContain("password");
    const last = result.progress.at(-1)!;
    expect(last.records).toBe(BigInt(USERS));
    // From the count beside the stream, or, when that came back after the last record (a loaded CI machine), from the end itself.
    expect(last.estimatedTotal).toBe(BigInt(USERS));
    // Human-facing formats show labels in the header line.
    expect(result.bytes.toString("utf8").split("\r\n")[0]).toContain("Email address");
  });

  it("reports no estimated total unless the request asks for one, so no count query runs beside the stream", async () => {
    const result = await exportFile(source.client, { entity: Entity.USERS, format: "csv" });
    expect(result.progress.at(-1)!.records).toBe(BigInt(USERS));
    expect(result.progress.every((p) => p.estimatedTotal === 0n)).toBe(true);
  });

  it("applies the filter, the sort, the limit and custom labels", async () => {
    const result = await exportFile(source.client, {
      entity: Entity.USERS,
      format: "csv",
      fields: ["username", "status"],
      labels: { username: "Login" },
      filter: { statuses: ["suspended"] },
      sort: [{ field: "username", descending: true }],
      limit: 3n,
    });
    const lines = result.bytes.toString("utf8").trim().split("\r\n");
    expect(lines[0]).toBe("Login,Status");
    expect(lines.slice(1)).toEqual(["user97,suspended", "user87,suspended", "user77,suspended"]);
    expect(result.summary.records).toBe(3n);
  });

  it("of JSON keeps keys, and pretty JSON is indented", async () => {
    const compact = await exportFile(source.client, { entity: Entity.COURSES, format: "json", sort: [{ field: "code" }] });
    const parsed = JSON.parse(compact.bytes.toString("utf8")) as Record<string, unknown>[];
    expect(parsed.map((c) => c.code)).toEqual(["AAA-2024", "BBB-2024", "CCC-2024"]);
    const pretty = await exportFile(source.client, { entity: Entity.COURSES, format: "json", formatOptions: { pretty: true } });
    expect(pretty.bytes.toString("utf8")).toContain('\n  {\n    "code"');
  });
});
