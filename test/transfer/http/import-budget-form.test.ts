/**
 * The error budget as curl and the RPC send it: `max_errors`,
 * `max_error_ratio`, `max_changes` form fields and ImportHeader fields, the
 * stop reported with the counts of what was written, and the job record
 * keeping what was asked.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Entity, WriteMode } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { importFile, startServices, type Services } from "../rpc/harness.js";

let s: Services;
beforeAll(async () => {
  s = await startServices({ config: { importBatchSize: 10 } });
});
afterAll(async () => s?.close());

const csv = (from: number, to: number, bad: (i: number) => boolean) =>
  `code,title\r\n${Array.from({ length: to - from }, (_, k) => from + k)
    .map((i) => `B${i},${bad(i) ? "" : `Budget ${i}`}`)
    .join("\r\n")}\r\n`;

async function post(fields: Record<string, string>, file: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new FormData();
  for (const [k, v] of Object.entries({ entity: "courses", format: "csv", ...fields })) form.append(k, v);
  form.append("file", new Blob([file]), "courses.csv");
  const res = await fetch(`${s.transfer.url}/import`, { method: "POST", body: form });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("POST /import with an error budget", () => {
  it("stops past max_errors, answering the failure with the counts of what was written, which the job keeps", async () => {
    const res = await post(
      { max_errors: "2" },
      csv(0, 200, (i) => i >= 50),
    );
    expect(res.status).toBe(412);
    expect(res.body).toMatchObject({ code: "failed_precondition", inserted: 50, failed: 3 });
    expect(String(res.body.message)).toMatch(/the import stopped at row \d+: 3 rows were rejected, more than max_errors \(2\); the rows written before it stay written/);
    const { job } = await s.client.getJob({ jobId: res.body.jobId as string });
    expect(job).toMatchObject({ maxErrors: 2n, errorCode: "failed_precondition" });
    expect((await s.recordsClient.countRecords({ entity: Entity.COURSES })).count).toBe(50n);
  });

  it("refuses a budget value that is not a number with 400, before anything is written", async () => {
    for (const [field, value] of [
      ["max_errors", "ten"],
      ["max_error_ratio", "5%"],
      ["max_changes", "-1"],
    ]) {
      const res = await post(
        { [field!]: value! },
        csv(1000, 1002, () => false),
      );
      expect(res.status, field).toBe(400);
      expect(String(res.body.message), field).toContain(field!);
    }
  });
});

describe("the Import RPC with max_changes", () => {
  it("keeps an upsert within the existing records it may change", async () => {
    const first = await importFile(
      s.client,
      { entity: Entity.COURSES, format: "csv", mode: WriteMode.UPSERT },
      csv(2000, 2030, () => false),
    );
    expect(first.summary?.inserted).toBe(30n);
    const changed = csv(2000, 2030, () => false).replaceAll("Budget", "Changed");
    const error = await importFile(s.client, { entity: Entity.COURSES, format: "csv", mode: WriteMode.UPSERT, maxChanges: 15n }, changed).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.FailedPrecondition);
    expect((error as ConnectError).rawMessage).toMatch(/would change at least 20 existing records, more than max_changes \(15\)/);
  });
});
