/**
 * The README's commands are a contract: every command of every `sh` block,
 * read from the README itself (readme-commands.ts), run in order as a reader
 * pastes them into one shell, against a stack started the README's way —
 * `npm start` as a child process, on free ports, with its own data folder —
 * in a fresh working folder (files the commands write land there). Each must
 * exit 0 and say something sensible; `curl` counts an HTTP error as a
 * failure (`--fail-with-body`, added by the shell the commands run in, not
 * written into the README).
 *
 * What the README cannot say literally is done the way a reader would do it:
 * the ports are the free ones (the README's 8000, 50051 and 9000 are replaced
 * in the text, and `RECORDS_URL`/`IDENTITY_PORT` point `npm run seed` and
 * `npm run sign-in` at them), and where the README says to open an address
 * and sign in as someone, a test browser does that with the password the
 * README gives. `npm test` is not run (it is this suite).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { connect } from "node:net";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/lib/ferretdb.js";
import { DEV_ACCOUNTS } from "../../services/identity/dev-accounts.js";
import { recordDevSecrets } from "../identity/identity-harness.js";
import { captureProcessOutput } from "../support/log-capture.js";
import { recordSecret } from "../support/run-secrets.js";
import { TestBrowser } from "../support/test-browser.js";
import { readmeCommands, type ReadmeCommand } from "./readme-commands.js";

const root = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
const readme = readFileSync(join(root, "README.md"), "utf8");
const commands = readmeCommands(readme);

interface Stack {
  ports: { records: number; transfer: number; identity: number };
  workspace: string;
  child: ChildProcess;
  output(): string;
}

let stack: Stack;

/** A working folder that looks like the repository (links to its files), so `npm start` and `npm run …` work and what the commands write lands here. */
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), "dx-readme-"));
  for (const name of readdirSync(root)) if (name !== ".git" && name !== "data") symlinkSync(join(root, name), join(dir, name));
  return dir;
}

/** The environment of a reader's shell: none of the test runner's settings, the stack's ports. */
function readerEnv(ports: Stack["ports"], extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith("VITEST") || name === "NODE_ENV" || name === "MONGODB_URI" || name.startsWith("DX_AUTH_")) delete env[name];
  return { ...env, RECORDS_PORT: String(ports.records), TRANSFER_PORT: String(ports.transfer), IDENTITY_PORT: String(ports.identity), RECORDS_URL: `http://127.0.0.1:${ports.records}`, ...extra };
}

/** The README's ports in a command's text replaced by the stack's. */
function onStackPorts(text: string, ports: Stack["ports"]): string {
  return text
    .replace(/\b(localhost|127\.0\.0\.1):8000\b/g, `$1:${ports.transfer}`)
    .replace(/\b(localhost|127\.0\.0\.1):50051\b/g, `$1:${ports.records}`)
    .replace(/\b(localhost|127\.0\.0\.1):9000\b/g, `$1:${ports.identity}`);
}

async function startStack(): Promise<Stack> {
  const ports = { records: await freePort(), transfer: await freePort(), identity: await freePort() };
  const dir = workspace();
  const child = spawn("npm", ["start"], {
    cwd: dir,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: readerEnv(ports, { DX_DATA_DIR: join(dir, "data", "ferretdb"), DX_FERRETDB_PORT: "0", IDENTITY_KEYS_FILE: join(dir, "data", "signing-keys.json") }),
  });
  let text = "";
  const keep = { stdout: captureProcessOutput("npm start", child.pid, "stdout"), stderr: captureProcessOutput("npm start", child.pid, "stderr") };
  for (const stream of ["stdout", "stderr"] as const) {
    child[stream]!.setEncoding("utf8").on("data", (chunk: string) => {
      text += chunk;
      keep[stream](chunk);
    });
  }
  const deadline = Date.now() + 240_000;
  while (!text.includes("[start] ready:")) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${text}`);
    if (Date.now() > deadline) throw new Error(`npm start was not ready in time:\n${text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { ports, workspace: dir, child, output: () => text };
}

async function stopStack(s: Stack): Promise<void> {
  if (s.child.exitCode === null && s.child.signalCode === null) {
    const exited = once(s.child, "exit");
    process.kill(-s.child.pid!, "SIGINT"); // Ctrl-C, to the whole process group as a terminal sends it
    const timer = setTimeout(() => process.kill(-s.child.pid!, "SIGKILL"), 30_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(s.workspace, { recursive: true, force: true });
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const state = () => join(stack.workspace, ".readme-shell-state");

/**
 * Runs one command in the reader's shell: the variables earlier commands set
 * are kept (every assignment exported, saved after each command), pipelines
 * fail when any part fails, curl fails on an HTTP error.
 */
async function run(command: ReadmeCommand): Promise<Result> {
  const script = `set -a
[ -f "${state()}" ] && . "${state()}"
set -o pipefail
curl() { command curl --fail-with-body -sS "$@"; }
${onStackPorts(command.text, stack.ports)}
rc=$?
export -p > "${state()}"
exit $rc
`;
  const file = join(stack.workspace, ".readme-command.sh");
  writeFileSync(file, script);
  const child = spawn("bash", [file], { cwd: stack.workspace, env: readerEnv(stack.ports), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let signingIn: Promise<unknown> | undefined;
  child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
    // "open it in a browser and sign in as admin": the test browser does, when the address appears.
    const address = /(http:\/\/127\.0\.0\.1:\d+\/auth\?\S+)/.exec(stderr)?.[1];
    if (address && !signingIn) signingIn = signInAs(command, address);
  });
  const [code] = (await once(child, "exit")) as [number];
  await signingIn;
  return { code, stdout, stderr };
}

/** Plays the reader at the sign-in page, as the command's comment says: "sign in as <user> (password <password>)". */
async function signInAs(command: ReadmeCommand, address: string): Promise<void> {
  const said = command.comments.join(" ");
  const match = /sign in as (\w+) \(password ([^)\s]+)\)/.exec(said);
  if (!match) throw new Error(`README line ${command.line}: the command opens a sign-in page, but its comment does not say "sign in as <user> (password <password>)": ${said}`);
  const [, username, password] = match;
  expect(DEV_ACCOUNTS.find((a) => a.username === username)?.password, `README line ${command.line}: the password given for ${username}`).toBe(password);
  const browser = new TestBrowser();
  const page = await browser.navigate(address);
  await browser.submit(page, { formId: "sign-in", fields: { username: username!, password: password! } });
}

/** What a command must show besides exiting 0, by what it runs. */
function checkOutput(command: ReadmeCommand, result: Result): void {
  const where = `README line ${command.line} (${command.heading})`;
  const text = command.text;
  const file = /\s-o\s+(\S+)/.exec(text)?.[1];
  const json = (s: string) => JSON.parse(s) as Record<string, unknown>;
  const assigned = /^(JOB|MISTAKE)=/.exec(text)?.[1];
  if (assigned) {
    expect(readFileSync(state(), "utf8"), where).toMatch(new RegExp(`declare -x ${assigned}="[\\w-]+"`));
  } else if (/^MARK=/.test(text)) {
    // The high-water mark read from the download's headers: an ISO time with its zone.
    expect(readFileSync(state(), "utf8"), where).toMatch(/declare -x MARK="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"/);
  } else if (/^npm run seed\b/.test(text)) {
    expect(result.stdout, where).toMatch(/done in [\d.]+ s/);
    expect(result.stdout, where).toMatch(/^users\s+\d+\s+\d+\s+0\s/m);
  } else if (/npm run -s (sign-in|token)/.test(text)) {
    const variable = /^(\w+)=\$\(/.exec(text)?.[1];
    const value = readFileSync(state(), "utf8").match(new RegExp(`declare -x ${variable}="([^"]*)"`))?.[1] ?? "";
    recordSecret("token", value);
    expect(value.split("."), `${where}: ${variable} holds a JWT`).toHaveLength(3);
  } else if (/token$/.test(text.trim()) || /grant_type=client_credentials/.test(text)) {
    const value = readFileSync(state(), "utf8").match(/declare -x (\w+)="(eyJ[^"]*)"/)?.[2] ?? "";
    recordSecret("token", value);
    expect(value.split("."), `${where}: a token`).toHaveLength(3);
  } else if (/\/import\b/.test(text) && file === "mistake.json") {
    // The import *Undo an import* reverts: it inserts its one course.
    const summary = json(readFileSync(join(stack.workspace, file), "utf8"));
    expect(summary, where).toMatchObject({ state: "succeeded", read: 1, inserted: 1, failed: 0 });
  } else if (/\/jobs\/\$MISTAKE\/revert\b/.test(text)) {
    expect(json(result.stdout), where).toMatchObject({ kind: "revert", state: "succeeded", counts: { deleted: 1, refused: 0 }, revertOf: expect.any(String) });
  } else if (/\/import\b/.test(text)) {
    const summary = json(readFileSync(join(stack.workspace, file!), "utf8"));
    expect(summary, where).toMatchObject({ state: "succeeded", failed: 0, errorCount: 0 });
    // Every import in the README takes back a file just exported: nothing changes.
    expect(summary.unchanged, `${where}: every record unchanged`).toBe(summary.read);
    expect(result.stdout, where).toContain(String(summary.jobId));
  } else if (/^npm run new-format\b/.test(text)) {
    expect(result.stdout, where).toMatch(/created .*team-formats\/grades: index\.ts, options\.ts, writer\.ts, reader\.ts, contract-fixtures\.ts, README\.md, package\.json/);
  } else if (/^npm run test:plugin\b/.test(text)) {
    const plain = result.stdout.replace(/\x1b\[[0-9;]*m/g, "");
    expect(plain, where).toMatch(/the grades plugin in a format worker > streams a million rows out and back in flat memory/);
    expect(plain, where).toMatch(/Tests\s+\d+ passed/);
  } else if (/jobs\/\$JOB\/failed-rows\?view=errors/.test(text)) {
    expect(readFileSync(join(stack.workspace, file!), "utf8"), where).toMatch(/^row,/);
  } else if (/jobs\/\$JOB\/failed-rows/.test(text)) {
    // The rejected rows in the upload's own format: a JSON array here, empty when nothing was rejected.
    expect(JSON.parse(readFileSync(join(stack.workspace, file!), "utf8")), where).toEqual([]);
  } else if (/jobs\/\$JOB\b/.test(text)) {
    expect(json(result.stdout), where).toMatchObject({ state: "succeeded", kind: expect.anything() });
  } else if (file) {
    expect(readFileSync(join(stack.workspace, file), "utf8").length, `${where}: ${file} written`).toBeGreaterThan(0);
  } else {
    expect(result.stdout.trim().length, `${where}: prints something`).toBeGreaterThan(0);
  }
}

beforeAll(async () => {
  recordDevSecrets();
  // Passwords the README's commands send (WriteRecords) must never reach a log either.
  for (const m of readme.matchAll(/"password":\s*"([^"]+)"/g)) recordSecret("password", m[1]!);
  stack = await startStack();
}, 300_000);
afterAll(async () => {
  if (stack) await stopStack(stack);
}, 60_000);

describe("the README's commands, pasted in order after npm start", () => {
  it("start with npm start and npm test, and have sh blocks under the quick start, the records and the transfer service, downloads, and a new format", () => {
    expect(commands.slice(0, 2).map((c) => c.text.split("#")[0]!.trim())).toEqual(["npm start", "npm test"]);
    expect(new Set(commands.map((c) => c.heading))).toEqual(
      new Set(["The two commands", "Quick start", "Calling the records service", "The transfer service", "Plain HTTP: downloads, uploads, jobs", "Formats"]),
    );
  });

  it("each exit 0 and say something sensible", async () => {
    for (const command of commands.slice(2)) {
      const result = await run(command);
      expect(result.code, `README line ${command.line} exited ${result.code}:\n${command.text}\n${result.stderr.slice(-2000)}\n${result.stdout.slice(-1000)}`).toBe(0);
      checkOutput(command, result);
    }
    expect(existsSync(join(stack.workspace, "users.csv"))).toBe(true);
  }, 900_000);

  it("left npm start running all along, and Ctrl-C stops everything it started", async () => {
    expect(stack.child.exitCode).toBeNull();
    process.kill(-stack.child.pid!, "SIGINT"); // Ctrl-C: the terminal signals the whole process group
    for (let i = 0; i < 300 && !/\[start\] stopped\s*$/.test(stack.output()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(stack.output()).toMatch(/\[start\] stopped\s*$/);
    for (const port of Object.values(stack.ports)) {
      const refused = await new Promise<boolean>((resolve) => {
        const socket = connect({ host: "127.0.0.1", port }, () => (socket.destroy(), resolve(false)));
        socket.once("error", () => resolve(true));
      });
      expect([port, refused]).toEqual([port, true]);
    }
  }, 60_000);
});
