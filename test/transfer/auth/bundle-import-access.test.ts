/**
 * Who may import a bundle, with authentication on: `import:<entity>` for
 * every part the file holds (a dry run: `validate:` or `import:`), judged
 * over the RPC and the upload alike before anything is written, and the
 * records written for the caller.
 */
import { zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { Entity } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { adminRecordsClient, as, startAuthServices, type AuthServices } from "./auth-harness.js";

let s: AuthServices;

beforeAll(async () => {
  s = await startAuthServices();
});
afterAll(async () => s?.close());

const zip = zipSync({
  "courses.csv": new TextEncoder().encode("code,title\nAUTH-1,Auth\n"),
  "users.csv": new TextEncoder().encode("email,username\nauth1@example.org,auth1\n"),
});
const stored = async () => Promise.all([Entity.USERS, Entity.COURSES].map(async (entity) => Number((await adminRecordsClient(s.records.url).countRecords({ entity })).count)));

async function upload(roles: string[]): Promise<{ status: number; body: { message?: string; inserted?: number } }> {
  const form = new FormData();
  form.append("strict", "true");
  form.append("file", new Blob([zip]), "auth.zip");
  const res = await fetch(`${s.transfer.url}/import?bundle=true`, { method: "POST", body: form, headers: await as(roles) });
  return { status: res.status, body: (await res.json()) as { message?: string; inserted?: number } };
}

async function rpc(roles: string[]): Promise<Code | "ok"> {
  const requests = (async function* () {
    yield { message: { case: "header" as const, value: { strict: true } } };
    yield { message: { case: "chunk" as const, value: zip } };
  })();
  try {
    for await (const _ of s.client.importBundle(requests, { headers: await as(roles) }));
    return "ok";
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

describe("a bundle import with authentication on", () => {
  it("is refused to a caller who may import nothing (exporter, auditor), over the RPC and the upload, writing nothing", async () => {
    const before = await stored();
    for (const roles of [["exporter"], ["auditor"]]) {
      expect(await rpc(roles)).toBe(Code.PermissionDenied);
      expect((await upload(roles)).status).toBe(403);
    }
    expect(await stored()).toEqual(before);
  });

  it("is refused when the header names settings for an entity the caller may not import", async () => {
    const requests = (async function* () {
      yield { message: { case: "header" as const, value: { parts: [{ entity: Entity.COURSES }] } } };
    })();
    const error = await (async () => {
      for await (const _ of s.client.importBundle(requests, { headers: await as(["exporter"]) }));
    })().then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(error?.code).toBe(Code.PermissionDenied);
  });

  it("writes every part for an importer", async () => {
    const before = await stored();
    const { status, body } = await upload(["importer"]);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.inserted).toBe(2);
    expect(await stored()).toEqual([before[0]! + 1, before[1]! + 1]);
  });
});
