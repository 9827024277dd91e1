/**
 * `dx` as its users run it: the bundled file (cli/build.mjs, the same build
 * `npm start`'s setup makes) copied into a temporary folder with no
 * node_modules anywhere above it, run with plain `node` as a child process
 * against services started by the test, with an environment of its own (no
 * DX_* of the runner's, a token file in the temporary folder).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleCli } from "../../cli/build.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));

export interface DxBundle {
  /** The folder holding dx.mjs (and nothing else). */
  dir: string;
  file: string;
  remove(): void;
}

/** Bundles dx into a fresh temporary folder, checking that no node_modules is reachable from it. */
export async function bundleDx(): Promise<DxBundle> {
  const dir = mkdtempSync(join(tmpdir(), "dx-cli-"));
  const file = join(dir, "dx.mjs");
  await bundleCli(root, file);
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, "node_modules"))) throw new Error(`${d} has a node_modules folder: the bundle would not be tested alone`);
    if (dirname(d) === d) break;
  }
  return { dir, file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface DxResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
}

export interface DxRun {
  child: ChildProcess;
  /** Resolves with the first match once the output so far matches. */
  waitFor(stream: "stdout" | "stderr", pattern: RegExp): Promise<RegExpExecArray>;
  result: Promise<DxResult>;
}

export interface DxOptions {
  input?: string | Buffer;
  /** Keep stdin open (the test writes to child.stdin). */
  openStdin?: boolean;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/** The environment of a clean shell: none of the runner's DX_* settings, a token file of the bundle's folder. */
export function dxEnv(bundle: DxBundle, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("DX_") && !k.startsWith("VITEST") && k !== "NODE_OPTIONS" && k !== "TRANSFER_PORT") env[k] = v;
  return { ...env, DX_TOKEN_FILE: join(bundle.dir, "token.json"), ...extra };
}

/** Starts `node dx.mjs …args`. */
export function startDx(bundle: DxBundle, args: string[], options: DxOptions = {}): DxRun {
  const child = spawn(process.execPath, [bundle.file, ...args], { cwd: options.cwd ?? bundle.dir, env: dxEnv(bundle, options.env), stdio: ["pipe", "pipe", "pipe"] });
  const out: Buffer[] = [];
  let stderr = "";
  const listeners: (() => void)[] = [];
  child.stdout!.on("data", (c: Buffer) => {
    out.push(c);
    listeners.forEach((l) => l());
  });
  child.stderr!.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
    listeners.forEach((l) => l());
  });
  // A dx that ends before reading all of its input (an import cancelled by another client, a refused
  // file) closes its stdin, and a write after that fails with EPIPE: its exit code says what happened,
  // which the test asserts. Any other error writing to it fails the run's result.
  let stdinError: NodeJS.ErrnoException | undefined;
  child.stdin!.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") stdinError ??= error;
  });
  if (options.input !== undefined) child.stdin!.end(options.input);
  else if (!options.openStdin) child.stdin!.end();
  const result = once(child, "close").then(([code, signal]) => {
    if (stdinError) throw stdinError;
    const stdoutBytes = Buffer.concat(out);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null, stdout: stdoutBytes.toString("utf8"), stdoutBytes, stderr };
  });
  return {
    child,
    result,
    waitFor: (stream, pattern) =>
      new Promise<RegExpExecArray>((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(stream === "stdout" ? Buffer.concat(out).toString("utf8") : stderr);
          if (match) resolve(match);
        };
        listeners.push(check);
        void result.then(() => reject(new Error(`dx ${args.join(" ")} ended before ${stream} matched ${pattern}: ${stderr}`)));
        check();
      }),
  };
}

/** Runs `node dx.mjs …args` to its end. */
export function dx(bundle: DxBundle, args: string[], options: DxOptions = {}): Promise<DxResult> {
  return startDx(bundle, args, options).result;
}
