/**
 * The `map` transform: another system's codes for this one's values — Canvas
 * SIS `status=deleted`, Moodle's numeric roles — imported as what they mean
 * instead of rejected, and every value the table does not know reported by
 * row unless the mapping says to keep it or give a default.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { applyTransforms, compileTransform, type Transform } from "../../../services/transfer/core/transforms.js";
import { TransferSettingsError } from "../../../services/transfer/core/errors.js";
import { importAll, importSettings, openRecords, plugin, type RecordsFixture } from "./support.js";

const canvas = readFileSync(new URL("../../fixtures/real-world/canvas-sis-users.csv", import.meta.url));

let fx: RecordsFixture;
beforeAll(async () => {
  fx = await openRecords("value_maps");
});
afterAll(async () => fx?.close());
beforeEach(async () => fx.clear());

const run = (t: Transform, value: unknown) => applyTransforms(value, [compileTransform(t, "mapping[0].transforms[0]")]);

describe("a value map", () => {
  it("imports a Canvas SIS users.csv whose status is deleted as suspended users", async () => {
    const mapping = [
      { source: "login_id", field: "username" },
      { source: "first_name", field: "firstName" },
      { source: "last_name", field: "lastName" },
      { source: "status", field: "status", transforms: [{ kind: "map" as const, values: { active: "active", deleted: "suspended" } }] },
      { source: "*", ignore: true },
    ];
    const { summary, errors } = await importAll(fx, canvas, importSettings("users", await plugin("csv"), { mapping }));
    expect(errors).toEqual([]);
    expect(summary).toMatchObject({ read: 3, inserted: 3, failed: 0 });
    expect((await fx.readAll("users")).map((u) => [u.username, u.status])).toEqual([
      ["fobrien", "suspended"],
      ["jgarcia", "active"],
      ["zmuller", "active"],
    ]);
  });

  it("imports Moodle's numeric roles as names, and rejects a role number the table lacks by row and column", async () => {
    const csv = "username,email,role\r\nana,ana@example.org,5\r\nben,ben@example.org,3\r\ncid,cid@example.org,9\r\ndee,dee@example.org,\r\n";
    const mapping = [
      { source: "username", field: "username" },
      { source: "email", field: "email" },
      { source: "role", field: "role", transforms: [{ kind: "map" as const, values: { "5": "student", "3": "teacher", "1": "admin" } }] },
    ];
    const { summary, errors } = await importAll(fx, csv, importSettings("users", await plugin("csv"), { mapping }));
    expect(errors.map((e) => ({ row: e.row, line: e.line, column: e.column, reason: e.reason }))).toEqual([
      { row: 3, line: 4, column: "role", reason: 'is not in the value map (it maps "1", "3", "5")' },
    ]);
    expect(summary).toMatchObject({ read: 4, inserted: 3, failed: 1 });
    expect((await fx.readAll("users")).map((u) => [u.username, u.role])).toEqual([
      ["ana", "student"],
      ["ben", "teacher"],
      ["dee", "student"],
    ]);
  });

  it("matches keys whatever their case when asked, and keeps or defaults what it does not know when told to", () => {
    const status = { active: "active", Deleted: "suspended" };
    expect(run({ kind: "map", values: status, caseInsensitive: true }, "DELETED")).toEqual({ ok: true, value: "suspended" });
    expect(run({ kind: "map", values: status }, "DELETED")).toMatchObject({ ok: false });
    expect(run({ kind: "map", values: status, unmapped: "keep" }, "completed")).toEqual({ ok: true, value: "completed" });
    expect(run({ kind: "map", values: status, unmapped: "default", default: "active" }, "invited")).toEqual({ ok: true, value: "active" });
  });

  it("looks up number and boolean cells (from JSON or a workbook) by their text, and lets blank cells through", () => {
    const roles = { "5": "student", true: "admin" };
    expect(run({ kind: "map", values: roles }, 5)).toEqual({ ok: true, value: "student" });
    expect(run({ kind: "map", values: roles }, true)).toEqual({ ok: true, value: "admin" });
    expect(run({ kind: "map", values: roles }, "")).toEqual({ ok: true, value: "" });
    expect(run({ kind: "map", values: roles }, undefined)).toEqual({ ok: true, value: undefined });
    expect(run({ kind: "map", values: roles }, new Date(0))).toEqual({ ok: false, reason: "a date cell cannot be looked up in the value map" });
  });

  it("lists at most ten of its keys in a row error", () => {
    const values = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, "v"]));
    expect(run({ kind: "map", values }, "nope")).toEqual({ ok: false, reason: `is not in the value map (it maps ${Array.from({ length: 10 }, (_, i) => `"k${i}"`).join(", ")}, and 2 more)` });
  });

  it("is a settings error when empty, clashing once case is ignored, or given a default it would not use", () => {
    const refused = (t: Transform, message: RegExp) => {
      expect(() => compileTransform(t, "mapping[2].transforms[0]")).toThrow(TransferSettingsError);
      expect(() => compileTransform(t, "mapping[2].transforms[0]")).toThrow(message);
    };
    refused({ kind: "map", values: {} }, /values must map at least one value/);
    refused({ kind: "map", values: { a: "x", A: "y" }, caseInsensitive: true }, /values.A clashes with another key once case is ignored/);
    refused({ kind: "map", values: { a: "x" }, default: "y" }, /default is only used when unmapped is "default"/);
    refused({ kind: "map", values: { a: "x" }, unmapped: "default" }, /default is required when unmapped is "default"/);
    refused({ kind: "map", values: { a: "x" }, unmapped: "drop" as "keep" }, /unmapped must be error, keep or default, not "drop"/);
    expect(() => compileTransform({ kind: "map", values: { a: "x", A: "x" }, caseInsensitive: true }, "m")).not.toThrow();
  });

  it("stops the import before anything is written when it is a settings error", async () => {
    const mapping = [
      { source: "status", field: "status", transforms: [{ kind: "map" as const, values: {} }] },
      { source: "*", ignore: true },
      { source: "login_id", field: "username" },
    ];
    await expect(importAll(fx, canvas, importSettings("users", await plugin("csv"), { mapping }))).rejects.toThrow(
      "invalid mapping for users: mapping[0].transforms[0].values must map at least one value",
    );
    expect(await fx.count("users")).toBe(0);
  });
});
