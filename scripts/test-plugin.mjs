#!/usr/bin/env node
/**
 * `npm run test:plugin -- <folder> [<folder>…]`: runs the contract suite every
 * shipped format passes (test/formats/contract.test.ts) over plugins kept
 * anywhere — a plugin folder (holding index.ts or index.js), or a directory of
 * them as `pluginDirs` lists — in-thread and in a format worker, one line per
 * case. Exits with the suite's status, so a plugin's own CI can run it.
 */
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { basename, delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
if (args.length === 0 || args.some((a) => a.startsWith("-"))) {
  console.error("usage: npm run test:plugin -- <plugin folder or directory of plugin folders> […]");
  process.exit(2);
}
const dirs = [];
const names = [];
for (const arg of args) {
  const path = resolve(process.env.INIT_CWD ?? process.cwd(), arg);
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    console.error(`test:plugin: ${path} is not a folder`);
    process.exit(2);
  }
  if (["index.ts", "index.js"].some((f) => existsSync(join(path, f)))) {
    dirs.push(dirname(path));
    names.push(basename(path));
  } else {
    dirs.push(path);
  }
}
const env = { ...process.env, DX_CONTRACT_PLUGIN_DIRS: [...new Set(dirs)].join(delimiter) };
// A directory given whole tests all its plugins; plugin folders alone test only themselves.
if (names.length === args.length) env.DX_CONTRACT_PLUGINS = names.join(",");
console.log(`contract suite for ${args.map((a) => resolve(process.env.INIT_CWD ?? process.cwd(), a)).join(", ")}`);
const vitest = join(repo, "node_modules", "vitest", "vitest.mjs");
const run = spawnSync(process.execPath, [vitest, "run", "--reporter=verbose", "test/formats/contract.test.ts"], { cwd: repo, env, stdio: "inherit" });
process.exit(run.status ?? 1);
