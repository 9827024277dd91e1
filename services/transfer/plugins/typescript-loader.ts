/**
 * tsx, for the plugins a compiled service did not compile.
 *
 * The compiled build (scripts/build-services.mjs) turns the shipped formats
 * into JavaScript beside the service, so a service started from dist/ loads
 * them, and runs their format workers, with no loader at all. A folder from
 * `pluginDirs` is another team's: its plugin is TypeScript (what
 * `npm run new-format` scaffolds) or JavaScript that imports the SDK package,
 * whose entry is TypeScript. Such a plugin still loads as it does from the
 * sources: tsx's loader is registered in the thread that imports it — the
 * main thread at discovery, and each format worker — and only then, so a
 * service without plugin folders never pays for the loader's thread.
 *
 * Such a plugin imports the SDK's TypeScript module, not the service's
 * compiled one, so its `FormatError` is another class. In a worker (the
 * default for these plugins) that changes nothing: errors cross the thread
 * as data and are rebuilt (error-codec.ts). Run in-thread by configuration,
 * its `FormatError`s would fail checks by `instanceof` on the main thread
 * (core/plugin-failures.ts) and be reported as plugin failures rather than
 * as errors in the file: a known gap of the compiled build, not yet tested.
 */
import { isAbsolute, relative } from "node:path";

/** Whether this module, and so the service, runs from the compiled build rather than from TypeScript sources. */
export const RUNS_COMPILED = !import.meta.url.endsWith(".ts");

/**
 * True when importing `entry` needs tsx: the service is compiled and the
 * plugin is not one of those it compiled, which live in `compiledFormatsDir`
 * (discovery's `defaultFormatsDir()`, dist/formats in a build).
 */
export function needsTypeScriptLoader(entry: string, compiledFormatsDir: string): boolean {
  if (!RUNS_COMPILED) return false;
  const inside = relative(compiledFormatsDir, entry);
  return inside.startsWith("..") || isAbsolute(inside);
}

let registered: Promise<void> | undefined;

/** Registers tsx's ESM loader in this thread, once. */
export function registerTypeScriptLoader(): Promise<void> {
  registered ??= import("tsx/esm/api").then(({ register }) => {
    register();
  });
  return registered;
}
