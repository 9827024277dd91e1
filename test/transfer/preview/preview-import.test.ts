/**
 * PreviewImport through a running transfer service on the real database:
 * each of a file's first rows with what importing it would do — new, update
 * with each field's before and after, unchanged, skip, error — a suggested
 * mapping for the file's columns, the format and dialect read, and nothing
 * written, no job created.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Entity, WriteMode } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { PreviewRow_Outcome, type PreviewImportResponse } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { exportFile, seed, startServices, user, type Services } from "../rpc/harness.js";

let s: Services;
beforeAll(async () => {
  s = await startServices();
  await seed(
    s.recordsClient,
    Entity.USERS,
    [1, 2, 3].map((n) => user(n)),
  );
});
afterAll(async () => s?.close());

const HEADER = "email,username,firstName,lastName,role,status\n";
const file =
  HEADER +
  "user1@example.org,user1,Ada,Number 1,student,active\n" + // as stored
  "user2@example.org,user2,Ada,Lovelace,student,active\n" + // lastName changes
  "new1@example.org,new1,Grace,Hopper,teacher,active\n" + // new
  "not-an-email,bad1,X,Y,student,active\n" + // invalid
  "new2@example.org,new1,Dup,Licate,student,active\n" + // username repeats row 3
  "user3@example.org,user3,Ada,Number 3,student,suspended\n"; // status changes

async function preview(text: string | Uint8Array, over: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<PreviewImportResponse> {
  return s.client.previewImport({
    header: { entity: Entity.USERS, format: "csv", mode: WriteMode.UPSERT, ...header },
    head: typeof text === "string" ? Buffer.from(text) : text,
    complete: true,
    ...over,
  });
}

const outcomes = (r: PreviewImportResponse) => r.rows.map((row) => [Number(row.row), PreviewRow_Outcome[row.outcome]]);

describe("a preview", () => {
  it("says what an upsert would do to each row, with the changes of an update, and writes nothing", async () => {
    const before = (await s.recordsClient.countRecords({ entity: Entity.USERS })).count;
    const jobs = await s.transferDb.db.collection("jobs").countDocuments();
    const r = await preview(file);
    expect(outcomes(r)).toEqual([
      [1, "UNCHANGED"],
      [2, "UPDATE"],
      [3, "NEW"],
      [4, "ERROR"],
      [5, "ERROR"],
      [6, "UPDATE"],
    ]);
    expect(r.rows[1]!.changes.map((c) => ({ field: c.field, before: c.before?.kind.value, after: c.after?.kind.value }))).toEqual([{ field: "lastName", before: "Number 2", after: "Lovelace" }]);
    expect(r.rows[5]!.changes.map((c) => c.field)).toEqual(["status"]);
    expect(r.rows[2]!.values).toMatchObject({ email: "new1@example.org", username: "new1", role: "teacher" });
    expect(r.rows[3]!.errors[0]).toMatchObject({ row: 4n, line: 5n, column: "email" });
    expect(r.rows[4]!.errors[0]).toMatchObject({ code: "duplicate_in_file", reason: "username repeats the value of row 3 of this file" });
    expect(r).toMatchObject({ format: "csv", columns: ["email", "username", "firstName", "lastName", "role", "status"], headerErrors: [] });
    expect((await s.recordsClient.countRecords({ entity: Entity.USERS })).count).toBe(before);
    expect(await s.transferDb.db.collection("jobs").countDocuments()).toBe(jobs);
  });

  it("skips stored records in skip-existing mode, and rejects them in insert mode by the records service's dry run", async () => {
    expect(outcomes(await preview(file, {}, { mode: WriteMode.SKIP_EXISTING })).slice(0, 3)).toEqual([
      [1, "SKIP"],
      [2, "SKIP"],
      [3, "NEW"],
    ]);
    const insert = await preview(file, {}, { mode: WriteMode.INSERT });
    expect(outcomes(insert).slice(0, 3)).toEqual([
      [1, "ERROR"],
      [2, "ERROR"],
      [3, "NEW"],
    ]);
    expect(insert.rows[0]!.errors[0]?.code).toBe("exists");
  });

  it("shows a merge changing only the fields it gives", async () => {
    const row = "email,username,lastName\nuser2@example.org,user2,Byron\n";
    const merge = await preview(row, {}, { mode: WriteMode.MERGE });
    expect(merge.rows[0]!.changes.map((c) => c.field)).toEqual(["lastName"]);
    expect(merge.rows[0]!.changes[0]).toMatchObject({ before: { kind: { value: "Number 2" } }, after: { kind: { value: "Byron" } } });
  });

  it("suggests a field for each column by key, label or a common synonym, and names the columns that would stop the import", async () => {
    const r = await preview("E-mail,login_id,First name,Surname,favourite colour\na@example.org,a,A,B,blue\n");
    expect(r.suggestions.map((x) => [x.column, x.field, x.matchedBy])).toEqual([
      ["E-mail", "email", "key"],
      ["login_id", "username", "synonym"],
      ["First name", "firstName", "key"],
      ["Surname", "lastName", "synonym"],
      ["favourite colour", "", ""],
    ]);
    expect(r.headerErrors.length).toBeGreaterThan(0);
    expect(r.rows).toEqual([]);
  });

  it("previews the first rows asked for, leaves out a row cut off at the end of the head, and says the dialect read", async () => {
    const semicolons = file.replaceAll(",", ";");
    expect((await preview(semicolons, { rows: 2 })).rows).toHaveLength(2);
    const cut = await preview(semicolons.slice(0, semicolons.indexOf("new1@") + 6), { complete: false });
    expect(cut.rows.map((r) => Number(r.row))).toEqual([1, 2]);
    expect(cut.detected?.delimiter).toBe(";");
  });

  it("chooses the format from the bytes when none is named (a workbook)", async () => {
    const workbook = (await exportFile(s.client, { entity: Entity.USERS, format: "xlsx" })).bytes;
    const r = await preview(workbook, {}, { format: "", fileName: "users.xlsx" });
    expect(r).toMatchObject({ format: "xlsx", formatChosenBy: "content: an XLSX workbook" });
    expect(outcomes(r)).toEqual([
      [1, "UNCHANGED"],
      [2, "UNCHANGED"],
      [3, "UNCHANGED"],
    ]);
  });

  it("refuses more rows than 200 and a head over 1 MiB with INVALID_ARGUMENT", async () => {
    for (const over of [{ rows: 201 }, { head: Buffer.alloc((1 << 20) + 1, 0x61) }]) {
      const error = await preview(file, over).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    }
  });
});
