/**
 * The transfer service's configuration (file + environment, checked with zod
 * at start), the module switch (`enabled: false` refuses every transfer RPC
 * and route), and plugin folders besides formats/ (a broken plugin is listed
 * as failed and the service starts without it).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Entity } from "../../gen/dataexchange/records/v1/records_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { loadTransferConfig, TransferConfigError, transferConfig } from "../../services/transfer/config/transfer-config.js";
import { startServices, type Services } from "./rpc/harness.js";

const dir = mkdtempSync(join(tmpdir(), "dx-transfer-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the configuration", () => {
  it("has defaults for every key", () => {
    expect(loadTransferConfig({ env: {}, cwd: dir })).toEqual({
      enabled: true,
      host: "127.0.0.1",
      port: 8000,
      recordsUrl: "http://127.0.0.1:50051",
      database: "dataexchange_transfer",
      importMaxFileMb: 50,
      importMaxRowBytes: 1048576,
      importMaxColumns: 1000,
      bundleMaxEntries: 10000,
      bundleMaxUnpackedMb: 4096,
      bundleMaxRatio: 1000,
      importBatchSize: 500,
      importWritesInFlight: 2,
      nestedDelimiter: ".",
      strictImportByDefault: false,
      exportChangeOverlapSeconds: 300,
      exportLoggingEnabled: true,
      pluginDirs: [],
      maxStoredRowErrors: 100000,
      formatWorkers: { formats: {}, poolSize: availableParallelism(), timeLimitMs: 30000, memoryLimitMb: 256, niceness: 10 },
      jobs: { progressSaveMs: 1000, heartbeatMs: 5000, leaseMs: 30000, sweepMs: 15000, cancelPollMs: 1000, watchPollMs: 250 },
    });
  });

  it("reads the job lease settings from the environment, and refuses a lease that a live job could outlive", () => {
    const env = {
      TRANSFER_JOBS_HEARTBEAT_MS: "1000",
      TRANSFER_JOBS_LEASE_MS: "4000",
      TRANSFER_JOBS_SWEEP_MS: "2000",
      TRANSFER_JOBS_CANCEL_POLL_MS: "250",
      TRANSFER_JOBS_PROGRESS_SAVE_MS: "500",
      TRANSFER_JOBS_WATCH_POLL_MS: "100",
    };
    expect(loadTransferConfig({ env, cwd: dir }).jobs).toEqual({ progressSaveMs: 500, heartbeatMs: 1000, leaseMs: 4000, sweepMs: 2000, cancelPollMs: 250, watchPollMs: 100 });
    expect(() => loadTransferConfig({ env: { TRANSFER_JOBS_HEARTBEAT_MS: "5000", TRANSFER_JOBS_LEASE_MS: "6000" }, cwd: dir })).toThrow(/jobs\.leaseMs: leaseMs must be at least 3 × heartbeatMs/);
    expect(() => transferConfig({ jobs: { leaseMs: 1000, progressSaveMs: 2000, heartbeatMs: 100 } })).toThrow(/jobs\.progressSaveMs/);
    expect(() => transferConfig({ jobs: { heartbeat: 5 } as never })).toThrow(/jobs: Unrecognized key: "heartbeat"/);
  });

  it("reads the format worker settings from the file and the environment, the per-format list too", () => {
    const path = join(dir, "workers.json");
    writeFileSync(path, JSON.stringify({ formatWorkers: { mode: "in-thread", poolSize: 3, formats: { json: "workers" } } }));
    expect(loadTransferConfig({ env: { DX_TRANSFER_CONFIG: path }, cwd: dir }).formatWorkers).toEqual({
      mode: "in-thread",
      poolSize: 3,
      formats: { json: "workers" },
      timeLimitMs: 30000,
      memoryLimitMb: 256,
      niceness: 10,
    });
    const env = {
      DX_TRANSFER_CONFIG: path,
      TRANSFER_FORMAT_WORKERS_MODE: "workers",
      TRANSFER_FORMAT_WORKERS_FORMATS: "csv=in-thread, ndjson=workers",
      TRANSFER_FORMAT_WORKERS_MAX_WORKERS: "12",
      TRANSFER_FORMAT_WORKERS_TIME_LIMIT_MS: "5000",
      TRANSFER_FORMAT_WORKERS_MEMORY_LIMIT_MB: "128",
      TRANSFER_FORMAT_WORKERS_NICENESS: "0",
    };
    // The environment wins key by key; keys it does not name keep the file's values.
    expect(loadTransferConfig({ env, cwd: dir }).formatWorkers).toEqual({
      mode: "workers",
      poolSize: 3,
      maxWorkers: 12,
      formats: { csv: "in-thread", ndjson: "workers" },
      timeLimitMs: 5000,
      memoryLimitMb: 128,
      niceness: 0,
    });
  });

  it("refuses bad format worker settings with messages that name them", () => {
    const attempt = (env: Record<string, string>) => {
      try {
        loadTransferConfig({ env, cwd: dir });
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error("expected the configuration to be refused");
    };
    expect(attempt({ TRANSFER_FORMAT_WORKERS_MODE: "threads" })).toMatch(/formatWorkers\.mode: /);
    expect(attempt({ TRANSFER_FORMAT_WORKERS_FORMATS: "csv=fast" })).toMatch(/formatWorkers\.formats\.csv: /);
    expect(attempt({ TRANSFER_FORMAT_WORKERS_POOL_SIZE: "4", TRANSFER_FORMAT_WORKERS_MAX_WORKERS: "2" })).toMatch(/formatWorkers\.maxWorkers: maxWorkers must be at least poolSize/);
    expect(attempt({ TRANSFER_FORMAT_WORKERS_TIME_LIMIT_MS: "0" })).toMatch(/formatWorkers\.timeLimitMs: /);
    // Nice values end at 19; a negative one would raise the threads above the event loop (and needs privileges).
    expect(attempt({ TRANSFER_FORMAT_WORKERS_NICENESS: "20" })).toMatch(/formatWorkers\.niceness: /);
    expect(attempt({ TRANSFER_FORMAT_WORKERS_NICENESS: "-5" })).toMatch(/formatWorkers\.niceness: /);
    expect(() => transferConfig({ formatWorkers: { poolSize: 2, threads: 3 } as never })).toThrow(/threads/);
  });

  it("reads config/transfer.json when present, and the environment wins over it", () => {
    mkdirSync(join(dir, "config"), { recursive: true });
    writeFileSync(join(dir, "config", "transfer.json"), JSON.stringify({ "//": "comment", importMaxFileMb: 5, strictImportByDefault: true, pluginDirs: ["../more-formats"], port: 9000 }));
    const config = loadTransferConfig({ env: { TRANSFER_PORT: "9100", TRANSFER_EXPORT_LOGGING_ENABLED: "false", MONGODB_URI: "mongodb://db:27017/" }, cwd: dir });
    expect(config).toMatchObject({
      importMaxFileMb: 5,
      strictImportByDefault: true,
      port: 9100,
      exportLoggingEnabled: false,
      mongodbUri: "mongodb://db:27017/",
      pluginDirs: [join(dir, "more-formats")],
    });
    rmSync(join(dir, "config"), { recursive: true });
  });

  it("reads the file DX_TRANSFER_CONFIG names, and says when it is missing", () => {
    const path = join(dir, "custom.json");
    writeFileSync(path, JSON.stringify({ enabled: false, nestedDelimiter: "/" }));
    expect(loadTransferConfig({ env: { DX_TRANSFER_CONFIG: path }, cwd: dir })).toMatchObject({ enabled: false, nestedDelimiter: "/" });
    expect(() => loadTransferConfig({ env: { DX_TRANSFER_CONFIG: join(dir, "absent.json") }, cwd: dir })).toThrow(/absent\.json, which does not exist/);
  });

  it("refuses bad values and unknown keys with messages that name them", () => {
    const path = join(dir, "bad.json");
    writeFileSync(path, JSON.stringify({ importMaxFileMb: -1, portt: 1 }));
    let error: unknown;
    try {
      loadTransferConfig({ env: { DX_TRANSFER_CONFIG: path, TRANSFER_RECORDS_URL: "ftp://nope" }, cwd: dir });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TransferConfigError);
    const message = (error as Error).message;
    expect(message).toContain("bad.json");
    expect(message).toMatch(/importMaxFileMb: /);
    expect(message).toMatch(/recordsUrl: recordsUrl must be an http/);
    expect(message).toContain("portt");
    writeFileSync(path, "{ not json");
    expect(() => loadTransferConfig({ env: { DX_TRANSFER_CONFIG: path }, cwd: dir })).toThrow(/cannot read the transfer config file/);
    expect(() => transferConfig({ enabled: "maybe" as never })).toThrow(/enabled/);
  });

  it("takes a number as a number or its decimal text, and refuses blank text, hex, true and null instead of reading 0, 1 or 8080", () => {
    const load = (env: Record<string, string>, file?: object) => {
      const path = join(dir, "numbers.json");
      writeFileSync(path, JSON.stringify(file ?? {}));
      return loadTransferConfig({ env: { DX_TRANSFER_CONFIG: path, ...env }, cwd: dir });
    };
    expect(load({ TRANSFER_PORT: " 8080 ", TRANSFER_IMPORT_MAX_FILE_MB: "2.5", TRANSFER_EXPORT_CHANGE_OVERLAP_SECONDS: "6e1" })).toMatchObject({
      port: 8080,
      importMaxFileMb: 2.5,
      exportChangeOverlapSeconds: 60,
    });
    expect(load({}, { port: 8080, exportChangeOverlapSeconds: "60" })).toMatchObject({ port: 8080, exportChangeOverlapSeconds: 60 });
    for (const [env, file, key] of [
      [{ TRANSFER_EXPORT_CHANGE_OVERLAP_SECONDS: " " }, {}, "exportChangeOverlapSeconds"],
      [{ TRANSFER_PORT: "0x1F90" }, {}, "port"],
      [{}, { port: true }, "port"],
      [{}, { exportChangeOverlapSeconds: null }, "exportChangeOverlapSeconds"],
      [{}, { importMaxFileMb: [5] }, "importMaxFileMb"],
    ] as const) {
      expect(() => load(env, file), JSON.stringify([env, file])).toThrow(new RegExp(`${key}: .*expected number`));
    }
  });
});

describe("a disabled transfer module", () => {
  let s: Services;
  beforeAll(async () => {
    s = await startServices({ config: { enabled: false } });
  });
  afterAll(async () => s?.close());

  it("answers every transfer RPC with UNAVAILABLE and a clear message", async () => {
    for (const call of [() => s.client.listFormats({}), () => s.client.getJob({ jobId: "x" }), () => s.client.listJobs({})]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.Unavailable);
      expect((error as ConnectError).rawMessage).toContain("disabled by configuration");
    }
    const streamed = await (async () => {
      for await (const _ of s.client.export({ entity: Entity.USERS, format: "csv" })) {
        // nothing
      }
    })().catch((e: unknown) => e);
    expect((streamed as ConnectError).code).toBe(Code.Unavailable);
  });

  it("answers every transfer route with 503 JSON", async () => {
    for (const [method, path] of [
      ["GET", "/export/csv?entity=users"],
      ["POST", "/import"],
      ["GET", "/jobs/x"],
      ["GET", "/jobs"],
    ] as const) {
      const res = await fetch(`${s.transfer.url}${path}`, { method, body: method === "POST" ? new FormData() : undefined });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ code: "unavailable", message: expect.stringContaining("disabled") });
    }
  });

  it("reports the service as not serving while health itself answers", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: s.transfer.url }));
    const answer = await health.check({ service: "dataexchange.transfer.v1.TransferService" });
    expect(answer.status).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
  });
});

describe("plugin folders besides formats/", () => {
  let s: Services;
  // Under the repository's .cache/ (git-ignored), not the temp directory: a
  // plugin from an extra folder runs in a format worker, where Node resolves
  // its `zod` import from the plugin's own location (vitest's resolver does
  // not reach worker threads).
  const cache = resolve(dirname(fileURLToPath(import.meta.url)), "../../.cache");
  mkdirSync(cache, { recursive: true });
  const extra = mkdtempSync(join(cache, "extra-formats-"));
  beforeAll(async () => {
    mkdirSync(join(extra, "broken"), { recursive: true });
    writeFileSync(join(extra, "broken", "index.ts"), 'export default { name: "broken", title: "Broken" };\n');
    mkdirSync(join(extra, "upper"), { recursive: true });
    writeFileSync(
      join(extra, "upper", "index.ts"),
      [
        'import { z } from "zod";',
        "export default {",
        '  name: "upper", title: "Upper-case lines", extensions: ["up"], mimeType: "text/plain", shape: "tabular", audience: "machine",',
        "  options: z.object({}),",
        "  async *write(rows, { columns }) {",
        "    for await (const batch of rows) yield Buffer.from(batch.map((r) => columns.map((c) => String(r[c.key] ?? '').toUpperCase()).join(' ') + '\\n').join(''));",
        "  },",
        "};",
      ].join("\n"),
    );
    s = await startServices({ config: { pluginDirs: [extra] } });
  });
  afterAll(async () => {
    await s?.close();
    rmSync(extra, { recursive: true, force: true });
  });

  it("lists a broken plugin as failed, with the reason, and serves the others", async () => {
    const { formats, failures } = await s.client.listFormats({});
    expect(formats.map((f) => f.name)).toEqual(["csv", "html", "json", "markdown", "ndjson", "ods", "upper", "xlsx"]);
    expect(formats.find((f) => f.name === "upper")).toMatchObject({ canRead: false, canWrite: true });
    expect(failures).toEqual([expect.objectContaining({ name: "broken", error: expect.stringMatching(/extensions|mimeType|options/) })]);
  });

  it("says why a failed plugin cannot be used, and refuses to import with a write-only one", async () => {
    const broken = await (async () => {
      for await (const _ of s.client.export({ entity: Entity.USERS, format: "broken" })) {
        // nothing
      }
    })().catch((e: unknown) => e);
    expect((broken as ConnectError).code).toBe(Code.NotFound);
    expect((broken as ConnectError).rawMessage).toContain("failed to load");
    const res = await fetch(`${s.transfer.url}/import`, {
      method: "POST",
      body: (() => {
        const f = new FormData();
        f.append("format", "upper");
        f.append("entity", "users");
        f.append("file", new Blob(["X"]), "x.up");
        return f;
      })(),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ message: expect.stringContaining("cannot be imported") });
  });
});
