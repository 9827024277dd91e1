/**
 * Value maps and zoned dates as clients send them: in the `mapping` form field
 * of `POST /import` and as Transform messages over gRPC, each refused with 400
 * or INVALID_ARGUMENT before a record is written when it says something the
 * service does not take.
 */
import { ConnectError, Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Entity, WriteMode } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { Transform_Map_Unmapped } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { importFile, startServices, type Services } from "../rpc/harness.js";

let s: Services;
beforeAll(async () => {
  s = await startServices();
});
afterAll(async () => s?.close());

const courses = "code,title,start,kind\r\nMT1,Maths,2013-1-03 00:00:00,3\r\nMT2,Physics,2013-7-03 08:30:00,5\r\n";
const mapping = [
  { source: "code", field: "code" },
  { source: "title", field: "title" },
  { source: "start", field: "startDate", transforms: [{ kind: "date", format: "YYYY-M-DD HH:mm:ss", timeZone: "America/Denver" }] },
  { source: "kind", field: "category", transforms: [{ kind: "map", values: { "3": "Science", "5": "Arts" } }] },
];

async function post(fields: Record<string, string>, file = courses): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = new FormData();
  for (const [k, v] of Object.entries({ entity: "courses", format: "csv", ...fields })) body.append(k, v);
  body.append("file", new Blob([file]), "courses.csv");
  const res = await fetch(`${s.transfer.url}/import`, { method: "POST", body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("POST /import with value maps and zoned dates", () => {
  it("stores the mapped values and the instants the zone gives", async () => {
    const res = await post({ mapping: JSON.stringify(mapping) });
    expect(res.body).toMatchObject({ inserted: 2, failed: 0 });
    const count = await s.recordsClient.countRecords({ entity: Entity.COURSES });
    expect(count.count).toBe(2n);
    const exported = await fetch(`${s.transfer.url}/export/ndjson?entity=courses&fields=code,category,startDate&sort=code`).then((r) => r.text());
    expect(
      exported
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { code: "MT1", category: "Science", startDate: "2013-01-03T07:00:00.000Z" },
      { code: "MT2", category: "Arts", startDate: "2013-07-03T14:30:00.000Z" },
    ]);
  });

  it("refuses an unknown key in a map transform, an unknown time zone and an empty table with 400, writing nothing", async () => {
    const before = (await s.recordsClient.countRecords({ entity: Entity.COURSES })).count;
    const variants: [unknown, RegExp][] = [
      [{ kind: "map", values: { "3": "Science" }, otherwise: "keep" }, /otherwise/],
      [{ kind: "date", format: "YYYY-M-DD HH:mm:ss", timeZone: "Mountain Time" }, /unknown time zone "Mountain Time"/],
      [{ kind: "map", values: {} }, /values must map at least one value/],
    ];
    for (const [transform, message] of variants) {
      const res = await post({ mode: "upsert", mapping: JSON.stringify([...mapping.slice(0, 3), { source: "kind", field: "category", transforms: [transform] }]) });
      expect(res.status, JSON.stringify(transform)).toBe(400);
      expect(String(res.body.message)).toMatch(message);
    }
    expect((await s.recordsClient.countRecords({ entity: Entity.COURSES })).count).toBe(before);
  });
});

describe("the Import RPC with Transform.Map and Transform.Date.time_zone", () => {
  it("maps case-insensitively, keeps what the table lacks when told to, and reads the zone", async () => {
    const file = "code,title,start,kind\r\nMT3,Chemistry,2024-1-15 09:00:00,SCI\r\nMT4,Drama,2024-1-15 09:00:00,drama\r\n";
    const result = await importFile(
      s.client,
      {
        entity: Entity.COURSES,
        format: "csv",
        mode: WriteMode.UPSERT,
        mappings: [
          { source: "code", field: "code" },
          { source: "title", field: "title" },
          { source: "start", field: "startDate", transforms: [{ kind: { case: "date", value: { format: "YYYY-M-DD HH:mm:ss", timeZone: "Europe/Berlin" } } }] },
          { source: "kind", field: "category", transforms: [{ kind: { case: "map", value: { values: { sci: "Science" }, caseInsensitive: true, unmapped: Transform_Map_Unmapped.KEEP } } }] },
        ],
      },
      file,
    );
    expect(result.rowErrors).toEqual([]);
    expect(result.summary).toMatchObject({ inserted: 2n });
    const exported = await fetch(`${s.transfer.url}/export/ndjson?entity=courses&fields=code,category,startDate&sort=code`).then((r) => r.text());
    expect(
      exported
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
        .filter((c) => ["MT3", "MT4"].includes(c.code)),
    ).toEqual([
      { code: "MT3", category: "Science", startDate: "2024-01-15T08:00:00.000Z" },
      { code: "MT4", category: "drama", startDate: "2024-01-15T08:00:00.000Z" },
    ]);
  });

  it("answers INVALID_ARGUMENT for an unmapped value it does not know", async () => {
    const error = await importFile(
      s.client,
      {
        entity: Entity.COURSES,
        format: "csv",
        mappings: [{ source: "kind", field: "category", transforms: [{ kind: { case: "map", value: { values: { a: "b" }, unmapped: 7 as Transform_Map_Unmapped } } }] }],
      },
      courses,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    expect((error as ConnectError).rawMessage).toMatch(/unmapped 7 is not one of error, keep, default/);
  });
});
