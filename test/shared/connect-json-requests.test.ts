/**
 * A request sent as JSON (the Connect protocol) is the request its sender
 * wrote, or it is refused: bytes that are not UTF-8, a key given twice and an
 * integer a double cannot hold would otherwise be changed without a word
 * before the handler sees them (services/shared/rpc/connect-json-text.ts).
 * Each case is sent as raw bytes to the running services, and nothing is
 * written.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Entity } from "../../gen/dataexchange/records/v1/records_pb.js";
import { connectJsonText } from "../../services/shared/rpc/connect-json-text.js";
import { type Services, startServices } from "../transfer/rpc/harness.js";

let s: Services;

beforeAll(async () => {
  s = await startServices();
});
afterAll(async () => s?.close());

/** A unary call in the Connect protocol with a JSON body given as bytes. */
async function callJson(baseUrl: string, path: string, body: Buffer | string): Promise<{ status: number; body: { code?: string; message?: string } & Record<string, unknown> }> {
  const res = await fetch(`${baseUrl}/${path}`, { method: "POST", headers: { "content-type": "application/json", "connect-protocol-version": "1" }, body });
  return { status: res.status, body: (await res.json()) as { code?: string; message?: string } };
}

const putRecord = (body: Buffer | string) => callJson(s.records.url, "dataexchange.records.v1.RecordsService/PutRecord", body);
const user = (email: string, more = "") => `{"email":"${email}","username":"${email.split("@")[0]}"${more}}`;

async function stored(email: string): Promise<boolean> {
  try {
    await s.recordsClient.getRecord({ entity: Entity.USERS, key: { parts: [email] } });
    return true;
  } catch (error) {
    if (ConnectError.from(error).code === Code.NotFound) return false;
    throw error;
  }
}

describe("a JSON request to the records service", () => {
  it("is refused when it gives a key twice: dryRun true then false would have written the user", async () => {
    const res = await putRecord(`{"entity":"ENTITY_USERS","mode":"WRITE_MODE_INSERT","record":{"user":${user("twice@example.org")}},"dryRun":true,"dryRun":false}`);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("invalid_argument");
    expect(res.body.message).toBe('the request\'s JSON has a duplicate key "dryRun": the object gives it twice, and a key can hold one value; remove one of them');
    expect(await stored("twice@example.org")).toBe(false);
  });

  it("is refused when its bytes are not UTF-8, naming the byte, rather than storing U+FFFD", async () => {
    const body = Buffer.concat([
      Buffer.from(`{"entity":"ENTITY_USERS","mode":"WRITE_MODE_INSERT","record":{"user":${user("latin1@example.org", ',"firstName":"Jos')}`),
      Buffer.from([0xe9]),
      Buffer.from('"}}}'),
    ]);
    const res = await putRecord(body);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("invalid_argument");
    expect(res.body.message).toBe(`the request's JSON is not valid UTF-8: byte 0xE9 at offset ${body.indexOf(0xe9)}; JSON text must be UTF-8`);
    expect(await stored("latin1@example.org")).toBe(false);
  });

  it("is refused when an integer has more digits than a double keeps, naming it, rather than rounding it", async () => {
    expect((await putRecord(`{"entity":"ENTITY_USERS","mode":"WRITE_MODE_INSERT","record":{"user":${user("owner@example.org")}}}`)).status).toBe(200);
    const activity = (details: string) =>
      `{"entity":"ENTITY_ACTIVITY","mode":"WRITE_MODE_INSERT","record":{"activity":{"userId":"owner","action":"viewed","at":"2026-12-01T10:00:00Z","details":${details}}}}`;
    const res = await putRecord(activity('{"attempt":12345678901234567890}'));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("invalid_argument");
    expect(res.body.message).toMatch(
      /^the request's JSON: the integer 12345678901234567890 at "record\.activity\.details\.attempt" has more digits than a number keeps exactly: it would be stored as 12345678901234567000/,
    );
    expect((await s.recordsClient.countRecords({ entity: Entity.ACTIVITY })).count).toBe(0n);
    // The same entry with the integer a double holds is stored.
    const taken = await putRecord(activity('{"attempt":12345678901234567000}'));
    expect(taken.status, JSON.stringify(taken.body)).toBe(200);
    expect((await s.recordsClient.countRecords({ entity: Entity.ACTIVITY })).count).toBe(1n);
  });

  it("is taken as written when it is UTF-8 with each key once, a byte order mark before it or not", async () => {
    const json = `{"entity":"ENTITY_USERS","mode":"WRITE_MODE_INSERT","record":{"user":${user("utf8-json@example.org", ',"firstName":"José €"')}}}`;
    const res = await putRecord(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json)]));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const got = await s.recordsClient.getRecord({ entity: Entity.USERS, key: { parts: ["utf8-json@example.org"] } });
    expect(got.record?.kind.value).toMatchObject({ firstName: "José €" });
  });
});

describe("a JSON request to the transfer service", () => {
  it("is refused the same way: a key given twice in ListJobs", async () => {
    const res = await callJson(s.transfer.url, "dataexchange.transfer.v1.TransferService/ListJobs", '{"state":"JOB_STATE_RUNNING","state":"JOB_STATE_FAILED"}');
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/^the request's JSON has a duplicate key "state"/);
  });
});

describe("the JSON text check", () => {
  it("hands a text JSON.parse refuses on unchanged, for Protobuf-ES to report", () => {
    expect(connectJsonText.decode(Buffer.from('{"a":'))).toBe('{"a":');
    expect(connectJsonText.decode(undefined)).toBe("");
  });

  it("finds a key given twice in a nested object and after JSON unescaping", () => {
    expect(() => connectJsonText.decode(Buffer.from('{"record":{"user":{"email":"a","\\u0065mail":"b"}}}'))).toThrow(/duplicate key "record\.user\.email"/);
  });
});
