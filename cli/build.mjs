/**
 * Bundles the CLI into one file, `dist/dx.mjs`, that runs with plain `node`
 * and no node_modules (esbuild). Used by scripts/setup.mjs, which rebuilds
 * only when one of the files the last bundle was made from changed (the
 * metafile lists them; this script and the lockfile count too), and by the
 * CLI tests.
 */
import { createHash } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** CommonJS dependencies (commander, cli-progress) call require() for Node's own modules. */
const BANNER = 'import { createRequire as __dxCreateRequire } from "node:module"; const require = __dxCreateRequire(import.meta.url);';

/** Builds `outfile` from cli/dx.ts under `root`; returns the input files, relative to root. */
export async function bundleCli(root, outfile = join(root, "dist", "dx.mjs")) {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [join(root, "cli", "dx.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    banner: { js: `#!/usr/bin/env node\n${BANNER}` },
    metafile: true,
    legalComments: "none",
    logLevel: "error",
  });
  chmodSync(outfile, 0o755);
  return Object.keys(result.metafile.inputs).sort();
}

function hashOf(root, inputs) {
  const hash = createHash("sha256");
  for (const input of inputs) {
    const path = join(root, input);
    hash.update(`${input}\0`);
    hash.update(existsSync(path) ? readFileSync(path) : "(missing)");
  }
  return hash.digest("hex");
}

/** Rebuilds dist/dx.mjs when any input of the last build changed (or there is none); true when it built. */
export async function ensureCliBundle(root) {
  const stampFile = join(root, "dist", ".dx-bundle-stamp.json");
  const outfile = join(root, "dist", "dx.mjs");
  if (existsSync(stampFile) && existsSync(outfile)) {
    const stamp = JSON.parse(readFileSync(stampFile, "utf8"));
    if (hashOf(root, stamp.inputs) === stamp.hash) return false;
  }
  // Besides the sources: how they are bundled, and which versions of the packages.
  const inputs = [...(await bundleCli(root, outfile)), "cli/build.mjs", "package-lock.json"];
  writeFileSync(stampFile, JSON.stringify({ inputs, hash: hashOf(root, inputs) }));
  return true;
}
