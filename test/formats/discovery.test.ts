import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultFormatsDir, discoverPlugins } from "../../services/transfer/plugins/index.js";

const sdk = join(defaultFormatsDir(), "_sdk", "index.js");
const zod = import.meta.resolve("zod");
const root = mkdtempSync(join(tmpdir(), "dx-plugins-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Writes a plugin folder `dir/name/index.ts` whose default export is `body`. */
function plugin(dir: string, name: string, body: string): void {
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(join(dir, name, "index.ts"), `import { z } from ${JSON.stringify(zod)};\nimport { definePlugin } from ${JSON.stringify(sdk)};\nexport default ${body};\n`);
}

const good = (name: string) =>
  `definePlugin({ name: ${JSON.stringify(name)}, title: "T", extensions: ["t"], mimeType: "text/plain", shape: "tabular", audience: "machine", options: z.object({}), async *write() {} })`;

describe("discoverPlugins", () => {
  it("finds the shipped csv, json and ndjson plugins in the repository's formats/", async () => {
    const { plugins, failures } = await discoverPlugins([defaultFormatsDir()]);
    expect(failures).toEqual([]);
    expect([...plugins.keys()]).toEqual(expect.arrayContaining(["csv", "json", "ndjson"]));
  });

  it("adds a plugin folder from an extra directory with no other change", async () => {
    const extra = join(root, "extra");
    plugin(extra, "plain-text", good("plain-text"));
    const { plugins, failures } = await discoverPlugins([defaultFormatsDir(), extra]);
    expect(failures).toEqual([]);
    expect(plugins.get("plain-text")?.title).toBe("T");
    expect(plugins.has("csv")).toBe(true);
  });

  it("reports broken plugins by name and still loads the others", async () => {
    const dir = join(root, "mixed");
    plugin(dir, "fine", good("fine"));
    plugin(dir, "throws", `(() => { throw new Error("boom at import"); })()`);
    mkdirSync(join(dir, "syntax"));
    writeFileSync(join(dir, "syntax", "index.ts"), "export default {{{;\n");
    plugin(dir, "wrong-name", good("other-name"));
    plugin(dir, "no-capability", good("no-capability").replace(", async *write() {}", ""));
    plugin(dir, "no-defaults", good("no-defaults").replace("z.object({})", "z.object({ required: z.string() })"));
    plugin(dir, "bad-members", `{ name: "bad-members", title: "", extensions: [], mimeType: "nope", shape: "round", audience: "human", options: {}, read: 1 }`);
    mkdirSync(join(dir, "_helpers"));
    writeFileSync(join(dir, "_helpers", "index.ts"), "throw new Error('never imported');\n");
    mkdirSync(join(dir, "not-a-plugin"));

    const { plugins, failures } = await discoverPlugins([dir]);
    expect([...plugins.keys()]).toEqual(["fine"]);
    const byName = Object.fromEntries(failures.map((f) => [f.name, f.error]));
    expect(Object.keys(byName).sort()).toEqual(["bad-members", "no-capability", "no-defaults", "syntax", "throws", "wrong-name"]);
    expect(byName.throws).toMatch(/boom at import/);
    expect(byName["wrong-name"]).toMatch(/does not match its folder/);
    expect(byName["no-capability"]).toMatch(/read, write or both/);
    expect(byName["no-defaults"]).toMatch(/parse\(\{\}\)/);
    expect(byName["bad-members"]).toMatch(/title/);
    expect(failures.find((f) => f.name === "throws")?.dir).toBe(join(dir, "throws"));
  });

  it("keeps the first of two plugins with the same name and reports the second", async () => {
    const a = join(root, "first");
    const b = join(root, "second");
    plugin(a, "twin", good("twin").replace('title: "T"', 'title: "first"'));
    plugin(b, "twin", good("twin").replace('title: "T"', 'title: "second"'));
    const { plugins, failures } = await discoverPlugins([a, b]);
    expect(plugins.get("twin")?.title).toBe("first");
    expect(failures).toMatchObject([{ name: "twin", dir: join(b, "twin"), error: expect.stringMatching(/duplicate/) }]);
  });

  it("reports a plugin directory that does not exist instead of throwing", async () => {
    const missing = join(root, "missing");
    const { plugins, failures } = await discoverPlugins([missing]);
    expect(plugins.size).toBe(0);
    expect(failures).toMatchObject([{ dir: missing }]);
  });
});
