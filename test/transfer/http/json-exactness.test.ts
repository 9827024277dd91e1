/**
 * `POST /import` of JSON and NDJSON that JSON.parse alone would change
 * silently: an object giving a key twice (JSON.parse keeps the last) is a row
 * error the user sees with its row, column and reason, while a lenient import
 * writes the other rows; a number written into a text field (`1.50`,
 * `12345678901234567890`) is stored as the file wrote it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServices, type Services } from "../rpc/harness.js";

let s: Services;
beforeAll(async () => {
  s = await startServices();
});
afterAll(async () => s?.close());

type RowError = { row: number; line?: number; column?: string; reason: string; code: string };

async function post(format: string, file: string, fileName: string, entity = "courses"): Promise<{ status: number; body: Record<string, unknown> & { errors: RowError[] } }> {
  const body = new FormData();
  for (const [k, v] of Object.entries({ entity, format, strict: "false" })) body.append(k, v);
  body.append("file", new Blob([file]), fileName);
  const res = await fetch(`${s.transfer.url}/import`, { method: "POST", body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { errors: RowError[] } };
}

/** The stored courses whose code starts with `prefix`, as an NDJSON export gives them. */
async function stored(prefix: string): Promise<Record<string, unknown>[]> {
  const text = await fetch(`${s.transfer.url}/export/ndjson?entity=courses&fields=code,title,category,description&sort=code`).then((r) => r.text());
  return text
    .trim()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((c) => String(c.code).startsWith(prefix));
}

describe("POST /import of NDJSON", () => {
  it("reports a line whose object gives the natural key twice with its row, line, column and reason, and imports the other lines", async () => {
    const file = ['{"code":"ND-1","title":"First"}', '{"code":"ND-2","title":"Second","code":"ND-3"}', '{"code":"ND-4","title":"Fourth"}', ""].join("\n");
    const res = await post("ndjson", file, "courses.ndjson");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: "succeeded", read: 3, inserted: 2, failed: 1 });
    expect(res.body.errors).toEqual([
      expect.objectContaining({ row: 2, line: 2, column: "code", reason: 'duplicate key "code": the object gives it twice, and a key can hold one value; remove one of them' }),
    ]);
    expect((await stored("ND-")).map((c) => c.code)).toEqual(["ND-1", "ND-4"]);
  });

  it("stores a number written into a text field as the file wrote it, not as the double prints", async () => {
    const file = '{"code":"NN-1","title":1.50,"category":12345678901234567890,"description":-0}\n{"code":"NN-2","title":1e21,"category":1.0}\n';
    const res = await post("ndjson", file, "numbers.ndjson");
    expect(res.body).toMatchObject({ read: 2, inserted: 2, failed: 0 });
    expect(await stored("NN-")).toEqual([
      { code: "NN-1", title: "1.50", category: "12345678901234567890", description: "-0" },
      { code: "NN-2", title: "1e21", category: "1.0" },
    ]);
  });
});

describe("POST /import of a JSON array", () => {
  it("reports an element whose object gives a key twice as a row error and reads on to the next element", async () => {
    const file = '[{"code":"JS-1","title":"First"},\n{"code":"JS-2","title":"Second","title":"Other"},\n{"code":"JS-3","title":2.50}]';
    const res = await post("json", file, "courses.json");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: "succeeded", read: 3, inserted: 2, failed: 1 });
    expect(res.body.errors).toEqual([expect.objectContaining({ row: 2, line: 2, column: "title", reason: expect.stringMatching(/^duplicate key "title": /) })]);
    expect(await stored("JS-")).toEqual([
      { code: "JS-1", title: "First" },
      { code: "JS-3", title: "2.50" },
    ]);
  });
});

describe("POST /import of activity whose details hold an integer longer than a number keeps", () => {
  it("reports the row with the integer's path and what it would have become, and imports the other rows with their details whole", async () => {
    const user = await post("ndjson", '{"email":"bigint@example.org","username":"bigint","firstName":"Big","lastName":"Int"}\n', "users.ndjson", "users");
    expect(user.body).toMatchObject({ inserted: 1 });
    const file = [
      '{"userId":"bigint","action":"post","at":"2024-03-07T10:00:00Z","details":{"postId":"12345678901234567890","n":1}}',
      '{"userId":"bigint","action":"post","at":"2024-03-07T10:01:00Z","details":{"postId":12345678901234567890}}',
      "",
    ].join("\n");
    const res = await post("ndjson", file, "activity.ndjson", "activity");
    expect(res.body).toMatchObject({ read: 2, inserted: 1, failed: 1 });
    expect(res.body.errors).toEqual([
      expect.objectContaining({
        row: 2,
        line: 2,
        column: "details",
        reason:
          'the integer 12345678901234567890 at "details.postId" has more digits than a number keeps exactly: it would be stored as 12345678901234567000; write it as a JSON string ("12345678901234567890") to keep every digit',
      }),
    ]);
    const exported = await fetch(`${s.transfer.url}/export/ndjson?entity=activity&fields=userId,details&user_id=bigint`).then((r) => r.text());
    expect(
      exported
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
    ).toEqual([{ userId: "bigint", details: { postId: "12345678901234567890", n: 1 } }]);
  });
});
