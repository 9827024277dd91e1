/**
 * The transfer service's configuration table in README.md, generated from the
 * one source: the zod schema (services/transfer/config/transfer-config.ts),
 * whose fields carry their meaning (`.describe`) and, where the default is
 * computed, how to say it (`.meta({ defaultText })`), and the environment
 * overrides beside it. Before, the table was written by hand three times
 * (README, the config file's header, the example) and drifted.
 *
 *   npm run docs:config            rewrites the table between the README's markers
 *   npm run docs:config -- --check exits 1 when the README's table is not the generated one
 *
 * test/transfer/config-table.test.ts checks the same in CI.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { configTable, replaceConfigTable } from "./lib/config-table.js";

const README = fileURLToPath(new URL("../README.md", import.meta.url));

const { values } = parseArgs({ options: { check: { type: "boolean", default: false } }, strict: true, allowPositionals: false });
const text = readFileSync(README, "utf8");
const updated = replaceConfigTable(text, configTable());
if (values.check) {
  if (updated !== text) {
    console.error("README.md: the configuration table is not the one generated from the schema; run npm run docs:config");
    process.exit(1);
  }
  console.log("README.md: the configuration table matches the schema");
} else if (updated !== text) {
  writeFileSync(README, updated);
  console.log("README.md: configuration table rewritten from the schema");
} else {
  console.log("README.md: configuration table already up to date");
}
