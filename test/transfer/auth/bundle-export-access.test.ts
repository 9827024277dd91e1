/**
 * Who may export a bundle, with authentication on: each entity of a bundle
 * is judged as a single export of it would be — `export:<entity>` for
 * every part, and personal fields only with `pii` (without it, a part that
 * chooses no fields gets the fields that are not personal, and one that
 * names a personal field is refused) — over the RPC and the download alike.
 */
import { strFromU8, unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { Entity } from "../../../gen/dataexchange/records/v1/records_pb.js";
import type { ExportBundleRequestSchema } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { course, seed, user } from "../rpc/harness.js";
import { adminRecordsClient, as, startAuthServices, type AuthServices } from "./auth-harness.js";

let s: AuthServices;

beforeAll(async () => {
  s = await startAuthServices();
  await seed(adminRecordsClient(s.records.url), Entity.USERS, [user("acc1")]);
  await seed(adminRecordsClient(s.records.url), Entity.COURSES, [course("ACC-1")]);
});
afterAll(async () => s?.close());

async function bundle(roles: string[], request: MessageInitShape<typeof ExportBundleRequestSchema>): Promise<{ files?: Record<string, string>; code?: Code }> {
  const chunks: Uint8Array[] = [];
  try {
    for await (const response of s.client.exportBundle(request, { headers: await as(roles) })) if (response.event.case === "chunk") chunks.push(response.event.value);
  } catch (error) {
    return { code: ConnectError.from(error).code };
  }
  return { files: Object.fromEntries(Object.entries(unzipSync(Buffer.concat(chunks))).map(([k, v]) => [k, strFromU8(v)])) };
}

describe("a bundle export with authentication on", () => {
  it("is refused to a caller who may export nothing (importer), over the RPC and the download", async () => {
    expect(await bundle(["importer"], { format: "csv", parts: [{ entity: Entity.COURSES }] })).toEqual({ code: Code.PermissionDenied });
    const res = await fetch(`${s.transfer.url}/export/csv?bundle=courses`, { headers: await as(["importer"]) });
    expect(res.status).toBe(403);
  });

  it("gives an exporter without pii the users' fields that are not personal, and refuses a personal field named in any part", async () => {
    const { files } = await bundle(["exporter"], { format: "csv", parts: [{ entity: Entity.COURSES, fields: ["code"] }, { entity: Entity.USERS }] });
    const header = files!["users.csv"]!.split("\r\n")[0]!;
    expect(header).toContain("Username");
    expect(header).not.toMatch(/Email|First name|Last name/);
    expect(await bundle(["exporter"], { format: "csv", parts: [{ entity: Entity.COURSES }, { entity: Entity.USERS, fields: ["email"] }] })).toEqual({ code: Code.PermissionDenied });
    const res = await fetch(`${s.transfer.url}/export/csv?bundle=courses,users&users.fields=email`, { headers: await as(["exporter"]) });
    expect(res.status).toBe(403);
  });

  it("gives an exporter with pii the personal fields", async () => {
    const { files } = await bundle(["exporter", "pii"], { format: "csv", parts: [{ entity: Entity.USERS, fields: ["email"] }] });
    expect(files!["users.csv"]).toContain("useracc1@example.org");
  });

  it("withholds a users part's filter keys from job and audit readers without pii, and shows them to those with it", async () => {
    const headers = await as(["exporter", "pii"], "keyed");
    let jobId = "";
    const request = { format: "csv", parts: [{ entity: Entity.USERS, fields: ["username"], filter: { keys: [{ parts: ["useracc1@example.org"] }] } }, { entity: Entity.COURSES }] };
    for await (const response of s.client.exportBundle(request, { headers })) if (response.event.case === "summary") jobId = response.event.value.jobId;
    const partsSeenBy = async (roles: string[]) => {
      const res = await fetch(`${s.transfer.url}/jobs/${jobId}`, { headers: await as(roles) });
      return ((await res.json()) as { parts: { entity: string; filter?: string }[] }).parts;
    };
    expect((await partsSeenBy(["admin", "pii"]))[0]!.filter).toContain("useracc1@example.org");
    const withheld = await partsSeenBy(["admin"]);
    expect(JSON.stringify(withheld)).not.toContain("useracc1");
    expect(withheld.map((p) => p.entity)).toEqual(["users", "courses"]);
    const auditFilter = async (roles: string[]) => {
      const { events } = await s.client.listAuditEvents({}, { headers: await as(roles) });
      return events.find((e) => e.jobId === jobId)?.filter ?? "";
    };
    expect(await auditFilter(["auditor", "pii"])).toContain("useracc1@example.org");
    const hidden = await auditFilter(["auditor"]);
    expect(hidden).not.toContain("useracc1");
    expect(JSON.parse(hidden).bundle.map((p: { entity: string }) => p.entity)).toEqual(["users", "courses"]);
  });
});
