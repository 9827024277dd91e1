/**
 * The live progress bar, drawn in a real pseudo-terminal (`script` from
 * util-linux runs dx with its stdout and stderr on a pty): it appears while
 * the job runs and ends at 100 %; with --quiet, or off a terminal, only the
 * final line is printed.
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Entity } from "../../gen/dataexchange/records/v1/records_pb.js";
import { seed, startServices, user, type Services } from "../transfer/rpc/harness.js";
import { bundleDx, dx, dxEnv, type DxBundle } from "./dx-harness.js";

let s: Services;
let bundle: DxBundle;

beforeAll(async () => {
  [s, bundle] = await Promise.all([startServices(), bundleDx()]);
  await seed(
    s.recordsClient,
    Entity.USERS,
    Array.from({ length: 300 }, (_, i) => user(i)),
  );
});
afterAll(async () => {
  await s?.close();
  bundle?.remove();
});

const quote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;

/** Runs dx in a pseudo-terminal (`script -e` exits with dx's code); what the terminal showed, escape sequences and all. */
async function inTerminal(args: string[], expectedCode = 0): Promise<string> {
  // A terminal 160 columns wide: cli-progress cuts lines at the terminal's width (80 for script's pty).
  const command = `stty cols 160; ${[process.execPath, bundle.file, ...args, "--server", s.transfer.url].map(quote).join(" ")}`;
  const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile("script", ["-qfec", command, "/dev/null"], { cwd: bundle.dir, env: { ...dxEnv(bundle), COLUMNS: "160", TERM: "xterm" }, encoding: "utf8" }, (error, out) => {
      resolve({ code: error ? Number((error as { code?: number }).code) : 0, stdout: out });
    });
  });
  expect(code, stdout).toBe(expectedCode);
  return stdout;
}

/** The text of the terminal's lines as redrawn (carriage returns and escape sequences gone). */
function frames(screen: string): string[] {
  // eslint-disable-next-line no-control-regex
  // eslint-disable-next-line no-control-regex
  return screen
    .split(/\r|\n|\x1b\[\d*[GK]/)
    .map((l) => l.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").trim())
    .filter(Boolean);
}

describe("on a terminal", () => {
  it("draws an import's bar by the bytes the server has read, with rows and rejections, ending at 100 %", async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => `bar${i}@example.org,bar${i},Bar,Person ${i},student,active`);
    rows[1500] = "not-an-email,bar1500,Bar,Person,student,active";
    writeFileSync(join(bundle.dir, "many.csv"), `email,username,firstName,lastName,role,status\n${rows.join("\n")}\n`);
    const screen = await inTerminal(["import", "many.csv", "--entity", "users"], 1);
    const lines = frames(screen);
    const bars = lines.filter((l) => l.startsWith("importing many.csv ["));
    expect(bars.length).toBeGreaterThan(0);
    expect(bars.at(-1)).toMatch(/\[█+\] 100% \| [\d.]+ KiB\/[\d.]+ KiB \| 2000 rows \(\d+\/s\), 1 rejected$/);
    expect(lines).toContainEqual(expect.stringMatching(/^row 1501, line 1502, column email: /));
    expect(lines).toContainEqual(expect.stringMatching(/^imported many\.csv into users: 2000 read, 1999 inserted/));
  });

  it("prints the row errors of an import that ends before the next redraw", async () => {
    writeFileSync(join(bundle.dir, "two.csv"), "email,username,firstName,lastName,role,status\nquick@example.org,quick,Q,Q,student,active\nnope,nope,N,N,student,active\n");
    const lines = frames(await inTerminal(["import", "two.csv", "--entity", "users"], 1));
    expect(lines).toContainEqual(expect.stringMatching(/^row 2, line 3, column email: /));
    expect(lines.filter((l) => l.startsWith("importing two.csv [")).at(-1)).toMatch(/100% \| 1\d\d B\/1\d\d B \| 2 rows \(\d+\/s\), 1 rejected$/);
  });

  it("draws an export's bar by records of the estimate, ending at 100 %", async () => {
    const screen = await inTerminal(["export", "users", "-o", "all.csv"]);
    const bars = frames(screen).filter((l) => l.startsWith("exporting users"));
    expect(bars.length).toBeGreaterThan(0);
    expect(bars.at(-1)).toMatch(/100% \| (\d{4})\/\1 \|/);
  });

  it("prints only the final line with --quiet", async () => {
    const screen = await inTerminal(["--quiet", "export", "users", "-o", "quiet.csv"]);
    expect(frames(screen)).toEqual([expect.stringMatching(/^exported \d{4} users records to quiet\.csv/)]);
  });
});

describe("off a terminal", () => {
  it("stops quietly with 141 when the reader of stdout closes it early (| head)", async () => {
    const command = `${[process.execPath, bundle.file, "export", "users", "-f", "ndjson", "-o", "-", "--server", s.transfer.url].map(quote).join(" ")} | head -1; echo "exit \${PIPESTATUS[0]}" >&2`;
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile("bash", ["-c", command], { cwd: bundle.dir, env: dxEnv(bundle), encoding: "utf8" }, (error, out, err) => (error ? reject(error) : resolve({ stdout: out, stderr: err }))),
    );
    expect(stdout.trim().split("\n")).toHaveLength(1);
    expect(stderr).toBe("exit 141\n");
  });

  it("prints no bar and no escape sequences", async () => {
    const r = await dx(bundle, ["export", "users", "-o", "plain.csv", "--server", s.transfer.url]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    // eslint-disable-next-line no-control-regex
    expect(r.stdout).not.toMatch(/\x1b|\r/);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
  });
});
