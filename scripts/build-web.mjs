/**
 * Builds the web UI (web/) with Vite into dist/web, which the transfer
 * service serves at `/` (services/transfer/api/http/web-ui.ts).
 *
 * Rebuilt by scripts/setup.mjs only when an input changed: a content hash of
 * web/ (its sources, index.html, its tsconfig), the generated clients it
 * imports (gen/), this script and Vite's version — about 20 ms to check, a few
 * seconds to build. The build goes to a fresh folder and replaces dist/web in
 * one rename, so a running service never serves half of two builds.
 *
 * Why Vite is configured here rather than in a vite.config file: there is one
 * build, run from this script, and one place to read what it does. The
 * component tests (test/web) transform TSX with the same JSX setting
 * (vitest.config.ts).
 */
import { readFileSync, renameSync, rmSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { listFiles, rebuildWhenChanged } from "./build-stamp.mjs";

const STAMP = ".dx-web-stamp";
/** Folders whose files the build reads, relative to the root. */
const INPUT_DIRS = ["web", "gen"];

/** Every file the build reads, relative to root and sorted. */
export function webBuildInputs(root) {
  return INPUT_DIRS.flatMap((d) => listFiles(join(root, d)))
    .map((f) => relative(root, f).split(sep).join("/"))
    .sort();
}

/** The Vite configuration of the one build (see the module comment). */
export function webViteConfig(root, outDir) {
  return {
    root: join(root, "web"),
    configFile: false,
    logLevel: "warn",
    base: "/",
    // Production React whoever runs the build: Vite otherwise takes NODE_ENV from the environment,
    // and a build started by the browser tests (vitest sets NODE_ENV=test) would be React's development build.
    mode: "production",
    define: { "process.env.NODE_ENV": JSON.stringify("production") },
    oxc: { jsx: { runtime: "automatic", development: false } },
    build: {
      outDir,
      emptyOutDir: true,
      assetsDir: "assets",
      sourcemap: true,
      // The polyfill would be an inline script, which the Content-Security-Policy refuses.
      modulePreload: { polyfill: false },
      target: "es2022",
    },
  };
}

/** Builds web/ into dist/web. */
export async function buildWeb(root) {
  const { build } = await import("vite");
  const dist = join(root, "dist");
  const partial = join(dist, `web.partial-${process.pid}`);
  rmSync(partial, { recursive: true, force: true });
  await build(webViteConfig(root, partial));
  rmSync(join(dist, "web"), { recursive: true, force: true });
  renameSync(partial, join(dist, "web"));
}

/** Rebuilds dist/web when an input changed since the last build (or there is none); true when it built. */
export async function ensureWebBuild(root) {
  const vite = JSON.parse(readFileSync(join(root, "node_modules", "vite", "package.json"), "utf8"));
  return rebuildWhenChanged({
    root,
    stamp: STAMP,
    inputs: webBuildInputs(root),
    scriptUrl: import.meta.url,
    toolVersion: `vite ${vite.version}`,
    built: join(root, "dist", "web", "index.html"),
    build: () => buildWeb(root),
  });
}
