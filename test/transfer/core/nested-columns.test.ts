/**
 * Nested values in tabular formats, as the README says: a plain export has
 * one column per field and an object field (an activity's details) is one
 * column of JSON text; selecting `details.x` paths gives flat `Details.x`
 * columns whose cells keep their types, so either way the round trip is exact.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportAll, importAll, importSettings, openRecords, plugin, users, type RecordsFixture } from "./support.js";

let source: RecordsFixture;
let target: RecordsFixture;
const details = { device: "mobile", clicks: 3, ratio: -0.25, flag: true, none: null, code: "3", truthy: "true", quoted: '"x"', dash: "-5 degrees", tags: ["a", "b"], inner: { ok: false } };

beforeAll(async () => {
  source = await openRecords("nested_src");
  target = await openRecords("nested_dst");
  for (const fx of [source, target]) await fx.seed("users", users(1, 1));
  await source.seed("activity", [
    { userId: "user1", action: "view", at: new Date("2024-01-01T10:05:00Z"), details },
    { userId: "user1", action: "login", at: new Date("2024-01-01T10:00:00Z") },
  ]);
});
afterAll(async () => {
  await source?.close();
  await target?.close();
});

describe("a tabular export of an object field", () => {
  it("is one column of JSON text by default, which reads back exactly", async () => {
    const file = (await exportAll(source, "activity", await plugin("csv"))).toString("utf8");
    const [header, first] = file.split("\r\n");
    expect(header).toBe("Entry id,User id,Session id,Course id,Action,At,Details,Recorded at");
    expect(first).toContain('"{""device"":""mobile"",""clicks"":3');
  });

  it("gives each selected path its own column whose cells keep their types: numbers, booleans, null, lists, and text that looks like them", async () => {
    const paths = Object.keys(details).map((k) => `details.${k}`);
    const file = await exportAll(source, "activity", await plugin("csv"), { fields: ["id", "userId", "action", "at", ...paths] });
    const text = file.toString("utf8");
    expect(text.split("\r\n")[0]).toBe(
      `Entry id,User id,Action,At,${Object.keys(details)
        .map((k) => `Details.${k}`)
        .join(",")}`,
    );
    expect(text).toContain(',mobile,3,-0.25,true,null,"""3""","""true""","""\\""x\\""""",\'-5 degrees,');
    await target.clear();
    await target.seed("users", users(1, 1));
    const { summary, errors } = await importAll(target, file, importSettings("activity", await plugin("csv")));
    expect(errors).toEqual([]);
    expect(summary).toMatchObject({ read: 2, inserted: 2 });
    expect((await target.readAll("activity")).find((r) => r.action === "view")?.details).toEqual(details);
  });

  it("merges an object's own column with flattened ones, in any order, and refuses a key given twice", async () => {
    await target.clear();
    await target.seed("users", users(1, 1));
    const csv = 'details.device,User id,Action,At,Details\r\nmobile,user1,view,2024-01-01T00:00:00Z,"{""clicks"":2}"\r\ntablet,user1,view,2024-01-02T00:00:00Z,"{""device"":""phone""}"\r\n';
    const { summary, errors } = await importAll(target, csv, importSettings("activity", await plugin("csv")));
    expect(summary).toMatchObject({ read: 2, inserted: 1, failed: 1 });
    expect(errors).toMatchObject([{ row: 2, column: "Details" }]);
    expect(errors[0]!.reason).toContain("details.device a second value");
    expect((await target.readAll("activity"))[0]?.details).toEqual({ device: "mobile", clicks: 2 });
  });

  it("refuses JSON text that gives a key twice, in the object's own column or a flattened one, rather than keep the last value", async () => {
    await target.clear();
    await target.seed("users", users(1, 1));
    const csv =
      'User id,Action,At,Details,details.meta\r\nuser1,view,2024-01-01T00:00:00Z,"{""score"":1,""score"":2}",\r\nuser1,view,2024-01-02T00:00:00Z,,"{""a"":{""b"":1,""b"":2}}"\r\nuser1,view,2024-01-03T00:00:00Z,"{""score"":3}","{""a"":1}"\r\n';
    const { summary, errors } = await importAll(target, csv, importSettings("activity", await plugin("csv")));
    expect(summary).toMatchObject({ read: 3, inserted: 1, failed: 2 });
    expect(errors).toMatchObject([
      { row: 1, column: "Details", reason: expect.stringMatching(/^duplicate key "score": /) },
      { row: 2, column: "details.meta", reason: expect.stringMatching(/^duplicate key "a.b": /) },
    ]);
    expect((await target.readAll("activity")).map((a) => a.details)).toEqual([{ score: 3, meta: { a: 1 } }]);
  });

  it("refuses a flattened cell holding an integer longer than a number keeps exactly, rather than round it", async () => {
    await target.clear();
    await target.seed("users", users(1, 1));
    const csv = "User id,Action,At,details.postId\r\nuser1,view,2024-01-01T00:00:00Z,12345678901234567890\r\nuser1,view,2024-01-02T00:00:00Z,42\r\n";
    const { summary, errors } = await importAll(target, csv, importSettings("activity", await plugin("csv")));
    expect(summary).toMatchObject({ read: 2, inserted: 1, failed: 1 });
    expect(errors).toMatchObject([{ row: 1, column: "details.postId", reason: expect.stringMatching(/^the integer 12345678901234567890 has more digits than a number keeps exactly/) }]);
    expect((await target.readAll("activity")).map((a) => a.details)).toEqual([{ postId: 42 }]);
  });
});
