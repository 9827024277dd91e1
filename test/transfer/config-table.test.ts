/**
 * The configuration table in README.md is generated from the zod schema
 * (scripts/config-table.ts): one source for every key, its variable, its
 * default and its meaning. This fails when the schema changed and the README
 * was not regenerated, or when a key has no description.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configTable, replaceConfigTable, TABLE_END, TABLE_START } from "../../scripts/lib/config-table.js";
import { ENV_OVERRIDES } from "../../services/transfer/config/transfer-config.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("the README's configuration table", () => {
  it("is the one generated from the schema (run npm run docs:config after changing it)", () => {
    expect(replaceConfigTable(readme, configTable())).toBe(readme);
  });

  it("has a row for every environment variable, naming its key", () => {
    const table = readme.slice(readme.indexOf(TABLE_START), readme.indexOf(TABLE_END));
    for (const [variable, key] of Object.entries(ENV_OVERRIDES)) expect(table).toContain(`| \`${key}\` | \`${variable}\` |`);
  });

  it("is refused without its markers rather than written somewhere else", () => {
    expect(() => replaceConfigTable("# no table here\n", configTable())).toThrow(/markers/);
  });
});
