#!/usr/bin/env node
/**
 * One idempotent setup step for a fresh clone, run before `npm start`, `npm test`,
 * `npm run seed` and the benchmarks. It uses nothing but Node itself, because it
 * runs before any npm package is installed.
 *
 * 1. npm packages: `npm ci` when package-lock.json changed since the last install.
 * 2. Generated code: `buf generate` when anything under proto/ changed.
 * 3. The `dx` CLI bundled into dist/dx.mjs (esbuild), when a file it is built
 *    from changed (cli/build.mjs keeps their hashes).
 * 4. The services, the shipped formats and the start script compiled to
 *    JavaScript under dist/ (esbuild, scripts/build-services.mjs), when a
 *    source file changed: `npm start` and the bench run them with plain node.
 * 5. The web UI (web/) built with Vite into dist/web (scripts/build-web.mjs),
 *    when a file under web/ or gen/ changed; the transfer service serves it.
 * 6. FerretDB v1.24.2: built once with the machine's Go and cached outside the
 *    work tree (a fresh clone on the same machine reuses it), unless MONGODB_URI
 *    points at another server.
 *
 * Each step keeps a stamp (a hash of its inputs), so a second run takes well
 * under a second.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, cpSync, rmSync, chmodSync, statSync, renameSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { tmpdir, homedir } from "node:os";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const FERRETDB_VERSION = "v1.24.2";
const FERRETDB_MODULE = "github.com/FerretDB/FerretDB";

function log(message) {
  process.stderr.write(`[setup] ${message}\n`);
}

function hashOf(parts) {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest("hex");
}

function listFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path));
    else out.push(path);
  }
  return out.sort();
}

function readStamp(path) {
  return existsSync(path) ? readFileSync(path, "utf8").trim() : "";
}

function run(command, args, options = {}) {
  execFileSync(command, args, { stdio: ["ignore", "inherit", "inherit"], cwd: root, ...options });
}

function checkNode() {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    throw new Error(`Node ${process.versions.node} is too old: Data Exchange needs Node 20.19 or newer.`);
  }
}

/**
 * The inputs that decide what `npm ci` installs: the lockfile and the
 * dependency fields of package.json. Editing scripts or descriptions must not
 * trigger a reinstall (which would pull node_modules from under running tests).
 */
function packageInputs() {
  const lock = join(root, "package-lock.json");
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const deps = JSON.stringify([pkg.dependencies ?? {}, pkg.devDependencies ?? {}, pkg.optionalDependencies ?? {}, pkg.overrides ?? {}]);
  return [deps, existsSync(lock) ? readFileSync(lock) : Buffer.alloc(0), process.version.split(".")[0]];
}

function ensurePackages() {
  const lock = join(root, "package-lock.json");
  const want = hashOf(packageInputs());
  const stamp = join(root, "node_modules", ".dx-setup-stamp");
  if (readStamp(stamp) === want && existsSync(join(root, "node_modules", ".bin", "vitest"))) return;
  log(existsSync(lock) ? "installing npm packages (npm ci)" : "installing npm packages (npm install)");
  run("npm", [existsSync(lock) ? "ci" : "install", "--no-audit", "--no-fund"]);
  writeFileSync(stamp, hashOf(packageInputs()));
}

function ensureGeneratedCode() {
  const inputs = listFiles(join(root, "proto")).map((f) => `${f}\0${readFileSync(f)}`);
  inputs.push(readFileSync(join(root, "buf.gen.yaml")));
  inputs.push(readFileSync(join(root, "node_modules", "@bufbuild", "protoc-gen-es", "package.json")));
  const want = hashOf(inputs);
  const stamp = join(root, "gen", ".dx-setup-stamp");
  if (readStamp(stamp) === want) return;
  log("generating code from proto/ (buf generate)");
  run(join(root, "node_modules", ".bin", "buf"), ["generate"]);
  writeFileSync(stamp, want);
}

/** `dx` as one file (package.json `bin`), rebuilt only when its sources changed: a hash check, no esbuild run, otherwise. */
async function ensureCli() {
  const { ensureCliBundle } = await import("../cli/build.mjs");
  if (await ensureCliBundle(root)) log("bundled the dx CLI into dist/dx.mjs");
}

/** Where built tools are cached across clones on this machine. */
export function cacheDir() {
  return process.env.DX_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "data-exchange");
}

export function ferretdbBinary() {
  return join(cacheDir(), `ferretdb-${FERRETDB_VERSION}`, "ferretdb");
}

/**
 * Builds FerretDB from its Go module. `go install …@v1.24.2` is not enough: the
 * module zip lacks build/version/version.txt, which FerretDB's own build
 * generates, and the binary then panics at start. So: download the module,
 * copy it, write version.txt, build.
 */
function ensureFerretDb() {
  const binary = ferretdbBinary();
  if (existsSync(binary) && statSync(binary).size > 0) return;
  log(`building FerretDB ${FERRETDB_VERSION} with Go (once per machine; about two minutes)`);
  const env = { ...process.env, GOFLAGS: "-mod=mod" };
  const info = JSON.parse(execFileSync("go", ["mod", "download", "-json", `${FERRETDB_MODULE}@${FERRETDB_VERSION}`], { encoding: "utf8", cwd: tmpdir(), env }));
  if (!info.Dir) throw new Error(`go mod download gave no directory for ${FERRETDB_MODULE}@${FERRETDB_VERSION}: ${info.Error ?? ""}`);
  const work = join(tmpdir(), `dx-ferretdb-src-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  try {
    cpSync(info.Dir, work, { recursive: true });
    chmodRecursive(work);
    writeFileSync(join(work, "build", "version", "version.txt"), `${FERRETDB_VERSION}\n`);
    mkdirSync(dirname(binary), { recursive: true });
    const partial = `${binary}.partial-${process.pid}`;
    run("go", ["build", "-trimpath", "-o", partial, "./cmd/ferretdb"], { cwd: work, env });
    renameSync(partial, binary);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  log(`FerretDB built at ${binary}`);
}

function chmodRecursive(dir) {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) chmodRecursive(path);
    else chmodSync(path, 0o644);
  }
}

/** dist/services, dist/formats, …: rebuilt only when a source changed (a content hash of them all). */
async function ensureServices() {
  const { ensureServicesBuild } = await import("./build-services.mjs");
  if (await ensureServicesBuild(root)) log("compiled the services and formats into dist/");
}

/** dist/web: rebuilt only when web/ (or the generated clients it imports) changed. */
async function ensureWeb() {
  const { ensureWebBuild } = await import("./build-web.mjs");
  if (await ensureWebBuild(root)) log("built the web UI into dist/web");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    checkNode();
    ensurePackages();
    ensureGeneratedCode();
    await ensureCli();
    await ensureServices();
    await ensureWeb();
    if (!process.env.MONGODB_URI || process.env.DX_FORCE_FERRETDB) ensureFerretDb();
  } catch (error) {
    log(`failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
