/**
 * Compiles the services, the shipped format plugins and the scripts that start
 * them to JavaScript under dist/, so that `npm start` and the bench run them
 * with plain `node` instead of tsx. tsx compiles each module on load in a
 * loader thread of its own — an extra V8 isolate in every service process and
 * in every format worker (tens of MB each; figures in bench/README.md,
 * "Compiled build").
 *
 * Why one output file per source file (esbuild's transform of each module,
 * what tsx does at run time) rather than a bundle:
 *
 * - dist/ mirrors the source tree (services/x/y.ts → dist/services/x/y.js), so
 *   every path a module computes from its own `import.meta.url` still lands
 *   where it should: discovery finds the compiled plugins in dist/formats/,
 *   a format worker finds worker-main.js next to format-worker.js;
 * - there is one copy of each module, so the services and the shipped plugins
 *   share one SDK (one `FormatError` class), as they do from sources;
 * - the bench's own service entries (bench/lib) import the services by
 *   relative path, and compile the same way.
 *
 * The shipped plugins import the SDK by its package name; dist/node_modules
 * holds a one-line package of that name re-exporting dist/formats/_sdk, which
 * Node's resolution finds before the workspace's (TypeScript) one.
 *
 * Rebuilt by scripts/setup.mjs only when a source file, this script or
 * esbuild's version changed (a content hash of them all, ~50 ms to check).
 */
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { listFiles, rebuildWhenChanged } from "./build-stamp.mjs";

/** The source folders compiled, relative to the repository root. */
const SOURCE_DIRS = ["services", "formats", "gen", "scripts/lib", "bench/lib"];
/** Single files compiled besides them (setup.mjs: where FerretDB is cached, for scripts/lib/ferretdb.ts). */
const SOURCE_FILES = ["scripts/start.ts", "scripts/setup.mjs"];
/** What the build writes under dist/ (and removes before a rebuild, so a deleted source leaves no stale module). */
const OUTPUTS = ["services", "formats", "gen", "scripts", "bench", "node_modules"];
const STAMP = ".dx-services-stamp";

/** Every file the build reads, relative to root and sorted: TypeScript modules to compile, plain .mjs modules to copy. */
export function buildInputs(root) {
  const files = [...SOURCE_DIRS.flatMap((d) => listFiles(join(root, d))), ...SOURCE_FILES.map((f) => join(root, f))];
  return files
    .map((f) => relative(root, f).split(sep).join("/"))
    .filter((f) => (f.endsWith(".ts") && !f.endsWith(".d.ts")) || f.endsWith(".mjs"))
    .sort();
}

/** Compiles every input under `root` into `root/dist`; returns the inputs. */
export async function buildServices(root) {
  const esbuild = await import("esbuild");
  const dist = join(root, "dist");
  for (const out of OUTPUTS) rmSync(join(dist, out), { recursive: true, force: true });
  const inputs = buildInputs(root);
  const typescript = inputs.filter((f) => f.endsWith(".ts"));
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: typescript.map((f) => join(root, f)),
    outdir: dist,
    outbase: root,
    bundle: false,
    platform: "node",
    format: "esm",
    target: "node20",
    // Maps beside the modules, read only under `node --enable-source-maps` (inline ones would
    // sit in every process's memory as part of each module's source text).
    sourcemap: "linked",
    sourcesContent: false,
    legalComments: "none",
    logLevel: "error",
  });
  for (const file of inputs.filter((f) => f.endsWith(".mjs"))) {
    mkdirSync(dirname(join(dist, file)), { recursive: true });
    copyFileSync(join(root, file), join(dist, file));
  }
  writeSdkAlias(dist);
  return inputs;
}

/** dist/node_modules/@data-exchange/format-sdk: the compiled SDK under its package name, for the compiled plugins. */
function writeSdkAlias(dist) {
  const pkg = join(dist, "node_modules", "@data-exchange", "format-sdk");
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, "package.json"), `${JSON.stringify({ name: "@data-exchange/format-sdk", private: true, type: "module", exports: "./index.js" }, null, 2)}\n`);
  writeFileSync(join(pkg, "index.js"), 'export * from "../../../formats/_sdk/index.js";\n');
}

/** Rebuilds dist/ when any input changed since the last build (or there is none); true when it built. */
export async function ensureServicesBuild(root) {
  const esbuild = await import("esbuild");
  return rebuildWhenChanged({
    root,
    stamp: STAMP,
    inputs: buildInputs(root),
    scriptUrl: import.meta.url,
    toolVersion: `esbuild ${esbuild.version}`,
    built: join(root, "dist", "services"),
    build: () => buildServices(root),
  });
}
