/**
 * The repository's root folder, found from this module's own place: from the
 * sources (services/shared/process/) and from the compiled build
 * (dist/services/shared/process/) alike, so that the folders kept in the
 * repository (.cache/ with the development keys, the product's package.json)
 * are the same whichever of the two a process runs.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE_NAME = "data-exchange";
let found: string | undefined;

/** The nearest folder above this module whose package.json is the product's (not the SDK's, not the build's alias). */
export function repositoryRoot(): string {
  if (found) return found;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: unknown }).name === PACKAGE_NAME) return (found = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json named ${PACKAGE_NAME} above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}
