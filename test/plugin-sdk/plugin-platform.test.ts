/**
 * The plugin platform as a team outside this repository uses it: scaffold a
 * plugin into a folder of its own, install the SDK package there by name,
 * run the contract suite over it with `npm run test:plugin`, and load it into
 * the service through pluginDirs, where ListFormats says which build it is
 * and where it came from.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listFormats } from "../../services/transfer/api/rpc/list-formats.js";
import { defaultFormatsDir, discoverPlugins } from "../../services/transfer/plugins/index.js";
import { formatWorkersSchema } from "../../services/transfer/config/transfer-config.js";
import { startFormatWorkers } from "../../services/transfer/plugins/workers/index.js";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const tsx = join(repo, "node_modules", ".bin", "tsx");
let team: string;

beforeAll(() => {
  team = mkdtempSync(join(tmpdir(), "dx-team-plugins-"));
  execFileSync(tsx, [join(repo, "scripts/new-format.ts"), "grades", "--dir", team], { cwd: repo });
  execFileSync(tsx, [join(repo, "scripts/new-format.ts"), "events", "--read", "--document", "--dir", team], { cwd: repo });
  for (const plugin of ["grades", "events"]) execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: join(team, plugin), stdio: "pipe" });
}, 120_000);
afterAll(() => {
  if (team) rmSync(team, { recursive: true, force: true });
});

function testPlugin(...folders: string[]): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [join(repo, "scripts/test-plugin.mjs"), ...folders], {
    cwd: repo,
    encoding: "utf8",
    env: { ...process.env, DX_VITEST_JSON: "", NO_COLOR: "1", FORCE_COLOR: "0" },
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe("a plugin scaffolded outside the repository", () => {
  it("imports the SDK by its package name, through the package.json the scaffold wrote", () => {
    const pkg = JSON.parse(readFileSync(join(team, "grades", "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(pkg.dependencies["@data-exchange/format-sdk"]).toBe(`file:${join(repo, "formats", "_sdk")}`);
    expect(readFileSync(join(team, "grades", "reader.ts"), "utf8")).toContain('from "@data-exchange/format-sdk"');
  });

  it("passes the contract suite as generated, in-thread and in a format worker, one line per case", () => {
    const { status, output } = testPlugin(team);
    expect(output).toMatch(/the grades plugin in a format worker > streams a million rows out and back in flat memory/);
    expect(output).toMatch(/the events plugin in-thread > reports malformed input with the row numbers a user needs/);
    expect(status, output.slice(-3000)).toBe(0);
  }, 300_000);

  it("fails the suite when the plugin breaks its contract, naming the case", () => {
    const broken = join(team, "events", "contract-fixtures.ts");
    const good = readFileSync(broken, "utf8");
    try {
      writeFileSync(broken, good.replace("rows: 2,", "rows: 3,"));
      const { status, output } = testPlugin(join(team, "events"));
      expect(status).not.toBe(0);
      expect(output).toMatch(/× .*the events plugin in-thread > reports malformed input/);
      expect(output).not.toMatch(/the grades plugin/);
    } finally {
      writeFileSync(broken, good);
    }
  }, 120_000);

  it("is loaded by the service from pluginDirs and listed with its version, author and folder", async () => {
    const discovered = await discoverPlugins([defaultFormatsDir(), team]);
    expect(discovered.failures).toEqual([]);
    const workers = await startFormatWorkers(discovered, formatWorkersSchema.parse({}));
    try {
      const { formats } = listFormats(workers.plugins);
      expect(formats.find((f) => f.name === "grades")).toMatchObject({ version: "0.1.0", loadedFrom: join(team, "grades"), runsInWorker: true, canRead: true, canWrite: true });
      expect(formats.find((f) => f.name === "events")).toMatchObject({ canRead: true, canWrite: false, shape: "document" });
      const csv = formats.find((f) => f.name === "csv")!;
      const product = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { version: string };
      expect(csv).toMatchObject({ version: product.version, author: "Data Exchange (shipped)", loadedFrom: join(defaultFormatsDir(), "csv"), runsInWorker: false });
    } finally {
      await workers.close();
    }
  });
});

describe("the scaffold", () => {
  it("refuses a name that cannot be a format id, an existing folder and an unknown flag, before writing anything", () => {
    const run = (...args: string[]) => spawnSync(tsx, [join(repo, "scripts/new-format.ts"), ...args], { cwd: repo, encoding: "utf8" });
    expect(run("Grades!", "--dir", team)).toMatchObject({ status: 2, stderr: expect.stringContaining('the name "Grades!" must be lowercase letters, digits and dashes') });
    expect(run("grades", "--dir", team)).toMatchObject({ status: 2, stderr: expect.stringContaining("already exists") });
    expect(run("other", "--tabluar", "--dir", team)).toMatchObject({ status: 2, stderr: expect.stringContaining("Unknown option '--tabluar'") });
    expect(run("other", "--tabular", "--document", "--dir", team)).toMatchObject({ status: 2 });
  });
});
