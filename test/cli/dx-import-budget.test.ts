/** `dx import` with an error budget: the server's stop told in one line, and budget flags checked before anything is sent. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Entity } from "../../gen/dataexchange/records/v1/records_pb.js";
import { startServices, type Services } from "../transfer/rpc/harness.js";
import { bundleDx, dx, type DxBundle } from "./dx-harness.js";

let s: Services;
let bundle: DxBundle;
beforeAll(async () => {
  [s, bundle] = await Promise.all([startServices({ config: { importBatchSize: 10 } }), bundleDx()]);
});
afterAll(async () => {
  await s?.close();
  bundle?.remove();
});

describe("dx import --max-errors", () => {
  it("stops where the server stopped, says why in one line, and exits 2 with the rows before it written", async () => {
    const file = join(bundle.dir, "budget.csv");
    writeFileSync(file, `code,title\n${Array.from({ length: 100 }, (_, i) => `DB${i},${i >= 40 ? "" : `Budget ${i}`}`).join("\n")}\n`);
    const r = await dx(bundle, ["import", file, "--entity", "courses", "--max-errors", "2", "--server", s.transfer.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/3 rows were rejected, more than max_errors \(2\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect((await s.recordsClient.countRecords({ entity: Entity.COURSES })).count).toBe(40n);
  });

  it("refuses a budget that is not a number before sending anything", async () => {
    for (const args of [
      ["--max-errors", "ten"],
      ["--max-error-ratio", "5%"],
      ["--max-changes", "-1"],
    ]) {
      const r = await dx(bundle, ["import", "-", "-f", "csv", "--entity", "courses", ...args, "--server", s.transfer.url], { input: "code,title\nZ,Z\n" });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toContain(args[0]!);
    }
  });
});
