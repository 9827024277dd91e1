/**
 * The services' start and stop lines are JSON like every other line: a
 * `listening` line with the address and what the service runs with, then
 * `stopping` and `stopped` with the signal, and `start_failed` with the
 * reason — through the logger, or by hand when there is no logger.
 * The services run as `npm start` runs them, each in a process of its own.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, inject, it } from "vitest";
import { MongoClient } from "mongodb";
import { createLogger } from "../../services/shared/logging/index.js";
import { findListeningLine, listeningLineOf, reportStartFailure } from "../../services/shared/process/index.js";
import { ensureDevKeys } from "../../services/shared/auth/index.js";
import { recordPrivateKey } from "../support/run-secrets.js";
import { repositoryRoot, startServiceProcess, type ServiceProcess } from "../telemetry/service-process.js";

const dir = mkdtempSync(join(tmpdir(), "dx-lifecycle-"));
const databases = ["lifecycle_records", "lifecycle_transfer"].map((prefix) => `${prefix}_${process.pid}`);
afterAll(async () => {
  const client = new MongoClient(inject("mongoUri"));
  try {
    for (const name of databases)
      await client
        .db(name)
        .dropDatabase()
        .catch(() => undefined);
  } finally {
    await client.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

const jsonLines = (output: string) =>
  output
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("reading a listening line back", () => {
  it("finds the URL in the JSON line and ignores plain text, other lines and a line not yet complete", () => {
    const line = JSON.stringify({ level: "info", service: "records", lifecycle: "listening", url: "http://127.0.0.1:5005", port: 5005, msg: "records service listening" });
    expect(listeningLineOf(line)).toEqual({ service: "records", url: "http://127.0.0.1:5005", port: 5005 });
    expect(listeningLineOf("records service listening on http://127.0.0.1:5005")).toBeUndefined();
    expect(listeningLineOf(JSON.stringify({ lifecycle: "stopping", url: "http://x" }))).toBeUndefined();
    expect(findListeningLine(`warning: something\n${line}\n`)?.url).toBe("http://127.0.0.1:5005");
    expect(findListeningLine(`warning: something\n${line}`)).toBeUndefined();
  });
});

describe("a failure to start", () => {
  it("is a fatal JSON line through the logger when there is one", () => {
    const chunks: string[] = [];
    const log = createLogger({ service: "records", destination: { write: (s: string) => void chunks.push(s) }, env: {} });
    reportStartFailure("records", new Error("cannot reach mongodb://dx:pw-in-uri-123@db:27017/"), log, () => expect.unreachable("the logger worked"));
    const [line] = jsonLines(chunks.join(""));
    expect(line).toMatchObject({ level: "fatal", service: "records", lifecycle: "start_failed", msg: "records service failed to start", err: { type: "Error" } });
    expect(chunks.join("")).not.toContain("pw-in-uri-123");
  });

  it("is still one JSON line of the same shape, scrubbed, when the logger could not be built", () => {
    const written: string[] = [];
    reportStartFailure("transfer", new Error("cannot reach mongodb://dx:pw-in-uri-123@db:27017/"), undefined, (line) => void written.push(line));
    expect(written).toHaveLength(1);
    const [line] = jsonLines(written[0]!);
    expect(line).toMatchObject({ level: "fatal", service: "transfer", lifecycle: "start_failed", msg: "transfer service failed to start" });
    expect(typeof line!.time).toBe("string");
    expect(written[0]).not.toContain("pw-in-uri-123");
  });

  it("of the real records service ends its process with code 1 after saying why", async () => {
    const run = await promisify(execFile)(process.execPath, ["--import", "tsx", "services/records/server.ts"], {
      cwd: repositoryRoot,
      env: { ...process.env, MONGODB_URI: "", RECORDS_PORT: "0" },
      timeout: 30_000,
    }).then(
      () => ({ code: 0, stdout: "", stderr: "" }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(run.code).toBe(1);
    const [line] = jsonLines(run.stdout + run.stderr).filter((l) => l.lifecycle === "start_failed");
    expect(line).toMatchObject({ level: "fatal", service: "records", msg: "records service failed to start" });
    expect((line!.err as { message: string }).message).toMatch(/MONGODB_URI/);
  });
});

describe("the services' start and stop", () => {
  let records: ServiceProcess | undefined;
  let transfer: ServiceProcess | undefined;
  afterAll(async () => {
    await transfer?.stop();
    await records?.stop();
  });

  it("are JSON lines: listening with address, database and auth, then stopping and stopped with the signal", async () => {
    const keysDir = join(dir, "keys");
    recordPrivateKey(ensureDevKeys(keysDir).privateKey);
    const env = { MONGODB_URI: inject("mongoUri"), DX_AUTH_DEV: "1", DX_DEV_KEYS_DIR: keysDir, LOG_LEVEL: "info", OTEL_EXPORTER_OTLP_ENDPOINT: "" };
    records = await startServiceProcess({ entry: "services/records/server.ts", portVariable: "RECORDS_PORT", env: { ...env, RECORDS_DATABASE: databases[0] } });
    transfer = await startServiceProcess({ entry: "services/transfer/server.ts", portVariable: "TRANSFER_PORT", env: { ...env, TRANSFER_DATABASE: databases[1], TRANSFER_RECORDS_URL: records.url } });

    const recordsStart = jsonLines(records.output()).find((l) => l.lifecycle === "listening");
    expect(recordsStart).toMatchObject({ level: "info", service: "records", msg: "records service listening", url: records.url, port: records.port, database: databases[0] });
    expect(recordsStart!.auth).toMatch(/^development key in .*; issuer dataexchange-dev; audience dataexchange-records/);
    const transferStart = jsonLines(transfer.output()).find((l) => l.lifecycle === "listening");
    expect(transferStart).toMatchObject({
      service: "transfer",
      msg: "transfer service listening",
      url: transfer.url,
      port: transfer.port,
      database: databases[1],
      records_url: records.url,
      enabled: true,
    });
    expect(transferStart!.formats).toEqual(expect.arrayContaining(["csv", "json", "ndjson"]));
    expect(transferStart!.format_modes).toMatchObject({ csv: "in-thread", json: "in-thread", ndjson: "in-thread" });
    expect(transferStart!.records_credential).toMatch(/^development token/);

    for (const service of [transfer, records]) {
      await service.stop();
      expect(service.child.exitCode, `exit code after SIGTERM; the service printed:\n${service.output()}`).toBe(0);
      const stops = jsonLines(service.output()).filter((l) => l.lifecycle === "stopping" || l.lifecycle === "stopped");
      expect(stops.map((l) => [l.lifecycle, l.signal])).toEqual([
        ["stopping", "SIGTERM"],
        ["stopped", "SIGTERM"],
      ]);
      expect(stops[1]!.duration_ms).toEqual(expect.any(Number));
    }
    // Nothing but JSON on stdout: every line a service prints is a log line.
    for (const service of [records, transfer])
      expect(
        service
          .output()
          .split("\n")
          .filter((l) => l !== "" && !l.startsWith("{")),
      ).toEqual([]);
  });
});
