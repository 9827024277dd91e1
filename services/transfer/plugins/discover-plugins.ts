/**
 * Finds and loads format plugins: every folder under the given directories
 * whose name does not start with `_` or `.` and that holds `index.ts` or
 * `index.js`. Loading is forgiving by design: a plugin that fails to import or
 * to validate is reported by name and skipped, so one bad plugin never keeps
 * the service (or the other formats) from starting.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { FormatPlugin } from "../../../formats/_sdk/index.js";
import { repositoryRoot } from "../../shared/process/repository-root.js";
import { validatePlugin } from "./plugin-schema.js";
import { needsTypeScriptLoader, registerTypeScriptLoader } from "./typescript-loader.js";

export interface PluginFailure {
  /** The folder name, i.e. the format name the plugin would have had. */
  name: string;
  /** The plugin's folder. */
  dir: string;
  /** Why it was skipped, for logs and the health report. */
  error: string;
  cause?: unknown;
}

/** Where a loaded plugin came from and which build it is, for ListFormats and the start-up log. */
export interface PluginAbout {
  version: string;
  author: string;
  /** The plugin's folder. */
  loadedFrom: string;
}

export interface DiscoveredPlugins {
  plugins: Map<string, FormatPlugin>;
  /** Version, author and folder of each loaded plugin. */
  about: Map<string, PluginAbout>;
  /** Folder of each loaded plugin (where optional companions such as contract fixtures live). */
  dirs: Map<string, string>;
  /** Entry module of each loaded plugin: what a format worker imports to run it. */
  entries: Map<string, string>;
  failures: PluginFailure[];
}

/** Entry files in order of preference: sources run under tsx/vitest; the build (dist/formats) has only `.js`. */
const ENTRIES = ["index.ts", "index.js"];

/** The shipped formats: the repository's `formats/` from the sources, `dist/formats/` in the compiled build. */
export function defaultFormatsDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "../../../formats");
}

/**
 * Loads the plugins under `dirs`, in order. A name found in an earlier
 * directory wins; a later duplicate is reported as a failure. A missing
 * directory is reported too (under its own path) rather than thrown.
 */
export async function discoverPlugins(dirs: string[]): Promise<DiscoveredPlugins> {
  const found: DiscoveredPlugins = { plugins: new Map(), about: new Map(), dirs: new Map(), entries: new Map(), failures: [] };
  for (const root of dirs) {
    let entries;
    try {
      entries = await readdir(root, { withFileTypes: true });
    } catch (err) {
      found.failures.push({ name: root, dir: root, error: `cannot read plugin directory: ${(err as Error).message}`, cause: err });
      continue;
    }
    const folders = entries
      .filter((e) => e.isDirectory() && !e.name.startsWith("_") && !e.name.startsWith("."))
      .map((e) => e.name)
      .sort();
    for (const name of folders) {
      const dir = join(root, name);
      const entry = ENTRIES.map((f) => join(dir, f)).find((f) => existsSync(f));
      if (entry === undefined) continue; // not a plugin (e.g. shared fixtures)
      if (needsTypeScriptLoader(entry, defaultFormatsDir())) await registerTypeScriptLoader();
      const loaded = await loadPlugin(entry, name);
      if (!loaded.ok) {
        found.failures.push({ name, dir, error: loaded.error, cause: loaded.cause });
      } else if (found.plugins.has(name)) {
        found.failures.push({ name, dir, error: `duplicate plugin name: already loaded from ${found.dirs.get(name)}` });
      } else {
        found.plugins.set(name, loaded.plugin);
        found.about.set(name, await aboutPlugin(loaded.plugin, dir));
        found.dirs.set(name, dir);
        found.entries.set(name, entry);
      }
    }
  }
  return found;
}

/**
 * A plugin's version and author: its own fields, else its folder's
 * `package.json` (a plugin kept as a package), else the product's for the
 * formats shipped in formats/.
 */
async function aboutPlugin(plugin: FormatPlugin, dir: string): Promise<PluginAbout> {
  const own = await readPackage(join(dir, "package.json"));
  const shipped = resolve(dirname(dir)) === defaultFormatsDir() ? await readPackage(join(repositoryRoot(), "package.json")) : undefined;
  const fallback = own ?? (shipped ? { version: shipped.version, author: "Data Exchange (shipped)" } : undefined);
  return { version: plugin.version ?? fallback?.version ?? "", author: plugin.author ?? fallback?.author ?? "", loadedFrom: dir };
}

async function readPackage(file: string): Promise<{ version?: string; author?: string } | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return undefined;
  }
  try {
    const pkg = JSON.parse(text) as { version?: unknown; author?: unknown };
    const author = typeof pkg.author === "string" ? pkg.author : typeof (pkg.author as { name?: unknown })?.name === "string" ? (pkg.author as { name: string }).name : undefined;
    return { version: typeof pkg.version === "string" ? pkg.version : undefined, author };
  } catch {
    return undefined; // a broken package.json does not keep a plugin from loading; its version is just unknown
  }
}

async function loadPlugin(entry: string, folder: string): Promise<{ ok: true; plugin: FormatPlugin } | { ok: false; error: string; cause?: unknown }> {
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(entry).href)) as { default?: unknown };
  } catch (err) {
    return { ok: false, error: `failed to import ${entry}: ${(err as Error)?.message ?? String(err)}`, cause: err };
  }
  try {
    return validatePlugin(mod.default, folder);
  } catch (err) {
    // An options schema whose parse({}) throws instead of failing lands here.
    return { ok: false, error: `invalid plugin: ${(err as Error)?.message ?? String(err)}`, cause: err };
  }
}
