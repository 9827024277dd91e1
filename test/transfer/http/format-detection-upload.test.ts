/**
 * Uploads that name no format, through a running transfer service: the file
 * is read as what it is, the answer and the job say which format and why,
 * and a file no reader takes is refused before a job or a record exists.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Entity, WriteMode } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { create } from "@bufbuild/protobuf";
import { ImportHeaderSchema } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { eventually, exportFile, importFile, startServices, type Services } from "../rpc/harness.js";

let s: Services;
let workbook: Buffer;
let spreadsheet: Buffer;

beforeAll(async () => {
  s = await startServices();
  const csv = `code,title\n${Array.from({ length: 5 }, (_, i) => `FD${i},Detected ${i}`).join("\n")}\n`;
  const first = await importFile(s.client, { entity: Entity.COURSES, format: "csv" }, csv);
  expect(first.summary?.inserted).toBe(5n);
  workbook = (await exportFile(s.client, { entity: Entity.COURSES, format: "xlsx" })).bytes;
  spreadsheet = (await exportFile(s.client, { entity: Entity.COURSES, format: "ods" })).bytes;
});
afterAll(async () => s?.close());

async function post(file: Buffer | string, fileName: string, fields: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = new FormData();
  for (const [k, v] of Object.entries({ entity: "courses", mode: "upsert", ...fields })) body.append(k, v);
  body.append("file", new Blob([file]), fileName);
  const res = await fetch(`${s.transfer.url}/import`, { method: "POST", body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("POST /import without a format", () => {
  it("reads an XLSX workbook as xlsx, even named .csv, and says so in the answer and the job", async () => {
    const res = await post(workbook, "courses.csv");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ format: "xlsx", formatChosenBy: "content: an XLSX workbook, although the file name ends in .csv", read: 5, unchanged: 5, failed: 0 });
    const { job } = await s.client.getJob({ jobId: res.body.jobId as string });
    expect(job).toMatchObject({ format: "xlsx", formatChosenBy: "content: an XLSX workbook, although the file name ends in .csv" });
  });

  it("reads an ODS spreadsheet as ods", async () => {
    const res = await post(spreadsheet, "courses.ods");
    expect(res.body).toMatchObject({ format: "ods", formatChosenBy: "content: an ODS spreadsheet", read: 5, unchanged: 5 });
  });

  it("reads JSON, NDJSON and semicolon CSV by their content when the name does not say", async () => {
    expect((await post('[{"code":"FD0","title":"Detected 0"}]', "upload")).body).toMatchObject({ format: "json", formatChosenBy: "content: starts with '[' (a JSON array)", unchanged: 1 });
    expect((await post('{"code":"FD1","title":"Detected 1"}\n', "upload")).body).toMatchObject({ format: "ndjson", unchanged: 1 });
    expect((await post("code;title\nFD2;Detected 2\n", "upload")).body).toMatchObject({ format: "csv", formatChosenBy: "content: is text that is not JSON", unchanged: 1 });
  });

  it("refuses a gzip file with 400 naming what it is, and starts no job", async () => {
    const jobs = await s.transferDb.db.collection("jobs").countDocuments();
    const res = await post(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), "courses.csv.gz");
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "invalid_argument" });
    expect(res.body.message).toMatch(/looks like a gzip-compressed file/);
    expect(await s.transferDb.db.collection("jobs").countDocuments()).toBe(jobs);
  });
});

describe("a named format", () => {
  it("is kept, with no word on how it was chosen", async () => {
    const res = await post("code,title\nFD3,Detected 3\n", "courses.csv", { format: "csv" });
    expect(res.body).toMatchObject({ format: "csv", unchanged: 1 });
    expect(res.body.formatChosenBy).toBeUndefined();
  });

  it("is refused when the file's name and content say JSON and csv is named", async () => {
    const res = await post('[{"code":"FD4"}]', "courses.json", { format: "csv" });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/looks like json, not a csv file \(format=csv\)/);
  });
});

describe("the Import RPC with an empty format", () => {
  it("starts the job as soon as the first line tells the format, while the upload is still coming", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const requests = (async function* () {
      yield { message: { case: "header" as const, value: create(ImportHeaderSchema, { entity: Entity.COURSES, mode: WriteMode.UPSERT }) } };
      yield { message: { case: "chunk" as const, value: Buffer.from("code,title\nFD9,Held\n") } };
      await held;
      yield { message: { case: "chunk" as const, value: Buffer.from("FD10,Released\n") } };
    })();
    const events: string[] = [];
    const call = (async () => {
      for await (const r of s.client.import(requests)) events.push(r.event.case ?? "");
    })();
    await eventually(() => events.includes("started"));
    release();
    await call;
    expect(events.at(-1)).toBe("summary");
  });

  it("chooses it from the content, in chunks of one byte, and reports it in the summary", async () => {
    const result = await importFile(s.client, { entity: Entity.COURSES, mode: WriteMode.UPSERT, fileName: "from-rpc" }, workbook, { chunkSize: 1 });
    expect(result.summary).toMatchObject({ format: "xlsx", formatChosenBy: "content: an XLSX workbook", read: 5n, unchanged: 5n });
  });
});
