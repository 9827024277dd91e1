/**
 * What the setup step's builds share (build-services.mjs, build-web.mjs):
 * listing their input files, and rebuilding only when a content hash of the
 * inputs, the build script and its tool's version differs from the stamp the
 * last build left beside its output.
 *
 * Plain JavaScript, like the builds, because setup.mjs runs it before
 * anything is compiled.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Every file below `dir`, but node_modules and dot-files; [] when it does not exist. */
export function listFiles(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path));
    else out.push(path);
  }
  return out;
}

/**
 * Runs `build` unless `dist/<stamp>` holds the hash of `inputs` (paths
 * relative to `root`), the build script at `scriptUrl` and `toolVersion`,
 * and `built` (a path the build writes) exists; true when it built. The stamp
 * is removed before building and written after, so a build that fails
 * half-way is redone next time.
 */
export async function rebuildWhenChanged({ root, stamp, inputs, scriptUrl, toolVersion, built, build }) {
  const hash = createHash("sha256");
  hash.update(`${toolVersion}\0`);
  hash.update(readFileSync(new URL(scriptUrl)));
  for (const input of inputs) {
    hash.update(`${input}\0`);
    hash.update(readFileSync(join(root, input)));
  }
  const want = hash.digest("hex");
  const stampFile = join(root, "dist", stamp);
  if (existsSync(stampFile) && readFileSync(stampFile, "utf8").trim() === want && existsSync(built)) return false;
  rmSync(stampFile, { force: true });
  await build();
  writeFileSync(stampFile, `${want}\n`);
  return true;
}
