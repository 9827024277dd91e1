/**
 * The end-of-run log secrets check: it finds a recorded secret (naming its
 * kind, file and line, never printing it) and any JWT, bearer or PEM shape in
 * every captured file; for a full run it refuses a capture that is missing,
 * short or lacks a service; and a run that leaks ends with a failing exit
 * code. Captures here are temporary folders, never the run's own.
 */
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger, LOG_FILE_VARIABLE } from "../../services/shared/logging/index.js";
import { checkRunLogs, formatLogCheck } from "../support/log-check.js";
import { recordSecret, readRecordedSecrets, type RecordedSecret } from "../support/run-secrets.js";
import { repositoryRoot } from "../telemetry/service-process.js";

const folders: string[] = [];
afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

function folder(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "dx-log-check-"));
  folders.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const line = (fields: Record<string, unknown>) => `${JSON.stringify({ level: "info", time: "2026-01-01T00:00:00.000Z", pid: 42, ...fields })}\n`;
/** A capture with what a full run must show: request and listening lines of both services. */
const healthy = [
  line({ service: "records", lifecycle: "listening", url: "http://127.0.0.1:1", msg: "records service listening" }),
  line({ service: "transfer", lifecycle: "listening", url: "http://127.0.0.1:2", msg: "transfer service listening" }),
  line({ service: "records", rpc: "dataexchange.records.v1.RecordsService/CountRecords", code: "ok", peer: "127.0.0.1:3", msg: "rpc" }),
  line({ service: "transfer", http: "GET /export/csv", status: 200, peer: "127.0.0.1:4", msg: "http" }),
].join("");

const password = "Planted-Pass-Word-9";
const token = "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZGEiLCJyb2xlcyI6WyJhZG1pbiJdfQ.c2lnbmF0dXJlLW9mLWEtcGxhbnRlZC10b2tlbi0xMjM0";
const signature = token.split(".")[2]!;
const secrets: RecordedSecret[] = [
  { kind: "password", value: password },
  { kind: "token", value: token },
  { kind: "service credential", value: token },
];

describe("the log secrets check", () => {
  it("passes a full run's capture that holds both services' lines and no secret", () => {
    const result = checkRunLogs({ dir: folder({ "services.log": healthy, "console.log": "[stdout] seeded 10 users\n" }), secrets, requireCoverage: true, minLines: 4 });
    expect(result.problems).toEqual([]);
    expect(result).toMatchObject({ lines: 4, byService: { records: 2, transfer: 2 }, processes: 1 });
    expect(formatLogCheck(result, "/tmp/x")).toMatch(/^log secrets check passed: 4 log lines \(records 2, transfer 2\)/);
  });

  it("names the kind, file, line and service of a recorded secret that leaked, without printing it", () => {
    const leaky = healthy + line({ service: "transfer", msg: `changed the password to ${password}` });
    const dir = folder({ "services.log": leaky, "spawned-services-transfer-server-77.stderr": `Error: refused\n  at verify (token ${signature})\n` });
    const result = checkRunLogs({ dir, secrets, requireCoverage: true, minLines: 4 });
    expect(result.problems).toEqual([
      expect.stringMatching(/^a password the run used leaked into services\.log line 5 \(service transfer, pid 42\): Plan…\(19 chars\)$/),
      expect.stringMatching(/^a token or service credential the run used leaked into spawned-services-transfer-server-77\.stderr line 2: /),
    ]);
    const report = formatLogCheck(result, dir);
    expect(report).toMatch(/^log secrets check FAILED \(2 problem\(s\)\)/);
    expect(report).toContain(`The captured logs are kept in ${dir}`);
    expect(report).not.toContain(password);
    expect(report).not.toContain(signature);
  });

  it("finds a JWT, a bearer credential and a PEM block that no test recorded, in any captured file", () => {
    const unsigned = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5In0.";
    const pem = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const dir = folder({
      "services.log": healthy + line({ service: "records", msg: `refused ${unsigned}` }),
      "console.log": `[stderr] auth: Bearer opaque-0123456789abcdef\n[stdout] ${pem}`,
    });
    const problems = checkRunLogs({ dir, secrets: [], requireCoverage: false }).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^a JWT leaked into services\.log line 5 \(service records, pid 42\)/),
        expect.stringMatching(/^a bearer credential leaked into console\.log line 1/),
        expect.stringMatching(/^a PEM block \(key or certificate\) leaked into console\.log line 2/),
      ]),
    );
  });

  it("refuses a full run whose capture is missing, too short, or lacks a service's request or listening lines", () => {
    expect(checkRunLogs({ dir: folder(), secrets, requireCoverage: true }).problems).toEqual([expect.stringMatching(/^services\.log is missing/)]);
    expect(checkRunLogs({ dir: folder({ "services.log": healthy }), secrets, requireCoverage: true, minLines: 5 }).problems).toEqual([
      expect.stringMatching(/^services\.log holds 4 lines, fewer than the 5/),
    ]);
    const recordsOnly = healthy
      .split("\n")
      .filter((l) => l.includes('"service":"records"'))
      .join("\n");
    expect(checkRunLogs({ dir: folder({ "services.log": recordsOnly }), secrets, requireCoverage: true, minLines: 1 }).problems).toEqual([
      expect.stringMatching(/^services\.log has no request line \(rpc or http\) from the transfer service/),
      expect.stringMatching(/^services\.log has no "listening" line from the transfer service/),
    ]);
  });

  it("asks nothing of a partial run's capture but that it leaks nothing", () => {
    expect(checkRunLogs({ dir: folder(), secrets, requireCoverage: false }).problems).toEqual([]);
  });

  it("refuses a line of services.log that is not one JSON object", () => {
    const torn = `${healthy}{"level":"info","msg":"half a li`;
    expect(checkRunLogs({ dir: folder({ "services.log": torn }), secrets, requireCoverage: false }).problems).toEqual([expect.stringMatching(/^services\.log line 5 is not a JSON object/)]);
  });
});

describe("the check wired to a real logger and the secrets ledger", () => {
  it("finds a secret recorded through recordSecret that a logger wrote into the capture", () => {
    const dir = folder();
    const recorded = recordSecret("password", "Ledger-Planted-Pass-4", dir);
    expect(readRecordedSecrets(dir)).toEqual([{ kind: "password", value: recorded }]);
    const log = createLogger({ service: "records", destination: { write: () => undefined }, env: { [LOG_FILE_VARIABLE]: join(dir, "services.log") } });
    log.info({ user: { password: recorded } }, "a field named password is redacted");
    expect(checkRunLogs({ dir, secrets: readRecordedSecrets(dir), requireCoverage: false }).problems).toEqual([]);
    log.info(`but free text is not: ${recorded}`);
    expect(checkRunLogs({ dir, secrets: readRecordedSecrets(dir), requireCoverage: false }).problems).toEqual([
      expect.stringMatching(/^a password the run used leaked into services\.log line 2 \(service records, pid \d+\)/),
    ]);
  });
});

describe("a run's end", () => {
  // Without DX_VITEST_JSON, so this miniature run never writes a report beside the real run's.
  const run = (mode: "leak" | "clean" | "failed-tests") =>
    promisify(execFile)(process.execPath, ["--import", "tsx", "test/logging/fixtures/leaky-run.ts", mode], { cwd: repositoryRoot, timeout: 30_000, env: { ...process.env, DX_VITEST_JSON: "" } }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  it("fails with a report naming the leak when a recorded secret was logged, and keeps the capture", async () => {
    const { code, stderr } = await run("leak");
    const kept = /The captured logs are kept in (\S+)/.exec(stderr)?.[1];
    if (kept) folders.push(kept);
    expect(code).toBe(1);
    expect(stderr).toMatch(/log secrets check FAILED \(1 problem\(s\)\)/);
    expect(stderr).toMatch(/a password the run used leaked into services\.log line 2 \(service transfer, pid \d+\)/);
    expect(stderr).not.toContain("-chosen-by-a-user");
    expect(kept).toBeDefined();
  });

  it("passes and removes the capture when nothing leaked", async () => {
    const { code, stdout } = await run("clean");
    expect(code).toBe(0);
    expect(stdout).toMatch(/log secrets check passed: 1 log lines \(transfer 1\)/);
    expect(stdout).not.toMatch(/kept in/);
  });

  it("keeps the capture, and says where, when a test failed though nothing leaked", async () => {
    const { code, stdout } = await run("failed-tests");
    const kept = /the services' output of this run is kept in (\S+)/.exec(stdout)?.[1];
    if (kept) folders.push(kept);
    expect(code).toBe(0);
    expect(stdout).toMatch(/log secrets check passed/);
    expect(kept).toBeDefined();
    expect(existsSync(join(kept!, "services.log"))).toBe(true);
  });
});
