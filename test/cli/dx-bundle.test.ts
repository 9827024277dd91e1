/**
 * `dx bundle-export` and `dx bundle-import`, the bundled CLI as a child
 * process against real services: a ZIP of CSVs exported from one store and
 * imported into another, per-part settings, row errors naming their part,
 * and the exit codes of a strict bundle that wrote nothing.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { strFromU8, unzipSync, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Entity } from "../../gen/dataexchange/records/v1/records_pb.js";
import { course, seed, startServices, user, type Services } from "../transfer/rpc/harness.js";
import { bundleDx, dx, type DxBundle } from "./dx-harness.js";

let source: Services;
let target: Services;
let bundle: DxBundle;

beforeAll(async () => {
  [source, target, bundle] = await Promise.all([startServices(), startServices(), bundleDx()]);
  await seed(
    source.recordsClient,
    Entity.USERS,
    Array.from({ length: 4 }, (_, i) => user(`cli${i}`)),
  );
  await seed(source.recordsClient, Entity.COURSES, [course("CLI-1")]);
});
afterAll(async () => {
  await Promise.all([source?.close(), target?.close()]);
  bundle?.remove();
});

const path = (name: string) => join(bundle.dir, name);
const count = async (s: Services, entity: Entity) => Number((await s.recordsClient.countRecords({ entity })).count);

describe("dx bundle-export and dx bundle-import", () => {
  it("move users and courses from one store to another as a ZIP of CSV files", async () => {
    const exported = await dx(bundle, ["bundle-export", "users,courses", "-f", "csv", "-o", "moved.zip", "--fields", "users=email,username,status", "--server", source.transfer.url]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/^exported a bundle of users\.csv 4, courses\.csv 1 to moved\.zip \(csv, .*\) — job [\w-]+$/m);
    const files = unzipSync(readFileSync(path("moved.zip")));
    expect(Object.keys(files)).toEqual(["users.csv", "courses.csv"]);
    expect(strFromU8(files["users.csv"]!).split("\r\n")[0]).toBe("Email address,Username,Status");

    const imported = await dx(bundle, ["bundle-import", "moved.zip", "--strict", "--server", target.transfer.url]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain("  users.csv → users: 4 read, 4 inserted, 0 updated, 0 rejected");
    expect(imported.stdout).toMatch(/^imported bundle moved\.zip: 5 read, 5 inserted, .* — job [\w-]+$/m);
    expect([await count(target, Entity.USERS), await count(target, Entity.COURSES)]).toEqual([4, 1]);
  });

  it("takes each part's mode and format options, and a strict bundle with a bad row exits 2 writing nothing", async () => {
    writeFileSync(
      path("semi.zip"),
      zipSync({
        "users.csv": new TextEncoder().encode("email;username\nusercli0@example.org;usercli0\nbad;kim\n"),
      }),
    );
    const before = await count(target, Entity.USERS);
    const strict = await dx(bundle, ["bundle-import", "semi.zip", "--strict", "--mode", "users=upsert", "--option", "users.delimiter=;", "--server", target.transfer.url]);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toMatch(/^users\.csv row 2, line 3, column email: /m);
    expect(strict.stdout).toMatch(/^strict bundle import aborted: semi\.zip: 2 read, .* 1 rejected \(nothing written\)/m);
    expect(await count(target, Entity.USERS)).toBe(before);

    const lenient = await dx(bundle, ["bundle-import", "semi.zip", "--no-strict", "--mode", "users=upsert", "--option", "users.delimiter=;", "--server", target.transfer.url]);
    expect(lenient.code).toBe(1);
    expect(lenient.stdout).toContain("  users.csv → users: 2 read, 0 inserted, 0 updated, 1 rejected");
    const job = /job ([\w-]+)\s*$/m.exec(lenient.stdout)?.[1];
    const rows = await dx(bundle, ["failed-rows", job!, "--part", "users.csv", "-o", "users-rejected.csv", "--server", target.transfer.url]);
    expect(rows.code, rows.stderr).toBe(0);
    // The part's own dialect: its delimiter came from --option, and goes back into the file.
    expect(readFileSync(path("users-rejected.csv"), "utf8").split(/\r?\n/)[1]).toMatch(/^bad;kim;2;3;/);
  });

  it("refuses an option without its entity before calling the server", async () => {
    const r = await dx(bundle, ["bundle-import", "semi.zip", "--option", "delimiter=;", "--server", target.transfer.url]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--option takes entity\.key=value in a bundle/);
  });
});
