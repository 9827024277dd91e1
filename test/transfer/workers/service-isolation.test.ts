/**
 * Format workers in the running transfer service (real servers on port 0,
 * real FerretDB): a broken plugin from an extra plugin folder fails only its
 * own export or import, with an RPC status and a job record naming it, while
 * the service keeps serving health, small RPCs and other exports; the pool
 * replaces its worker; and closing the service ends every worker thread.
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Entity, WriteMode } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { create } from "@bufbuild/protobuf";
import { ImportHeaderSchema, JobState, type ImportResponse, type ImportSummary } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../../gen/grpc/health/v1/health_pb.js";
import { runsInWorkers } from "../../../services/transfer/plugins/workers/index.js";
import { exportFile, seed, startServices, user, type Services } from "../rpc/harness.js";
import { writeTestPlugins, type TestPluginFolder } from "./test-plugins.js";

const USERS = 3000;
const FIELDS = ["email", "username", "role"];

let s: Services;
let folder: TestPluginFolder;

beforeAll(async () => {
  folder = writeTestPlugins(["throws", "spins", "hogs"]);
  s = await startServices({ config: { pluginDirs: [folder.dir], formatWorkers: { formats: { csv: "workers" }, poolSize: 2, timeLimitMs: 3000, memoryLimitMb: 64 } } });
  await seed(
    s.recordsClient,
    Entity.USERS,
    Array.from({ length: USERS }, (_, i) => user(i)),
  );
});
afterAll(async () => {
  await s?.close();
  folder?.remove();
});

/** Starts an export and resolves `header` with its job id as soon as the header arrives; `outcome` is how it ended. */
function startExport(format: string) {
  let announced: (jobId: string) => void = () => undefined;
  const header = new Promise<string>((resolve) => (announced = resolve));
  const outcome = (async () => {
    try {
      for await (const response of s.client.export({ entity: Entity.USERS, format, fields: FIELDS })) {
        if (response.event.case === "header") announced(response.event.value.jobId);
      }
      return undefined;
    } catch (error) {
      return ConnectError.from(error);
    }
  })();
  return { header, outcome };
}

describe("a broken plugin in the running service", () => {
  it("runs the extra plugins and the configured csv in format workers", () => {
    for (const name of ["throws", "spins", "hogs", "csv"]) expect(runsInWorkers(s.transfer.context.plugins.plugins.get(name)!), name).toBe(true);
    expect(s.transfer.formatWorkers.modes.get("csv")).toBe("workers");
  });

  describe.each([
    ["throws", "failed", 'format plugin "throws" failed: the throws plugin broke on purpose after one batch'],
    ["spins", "timed-out", 'format plugin "spins" timed out: no progress for 3000 ms while writing'],
    ["hogs", "out-of-memory", 'format plugin "hogs" ran out of memory: its worker reached the heap limit of 64 MiB'],
  ] as const)("an export in the %s format", (format, kind, message) => {
    it("fails only its own job, with INTERNAL and a job record naming the plugin, while health, ListFormats and a CSV export still answer", async () => {
      const pool = s.transfer.formatWorkers.pool!;
      const before = pool.stats();
      const bad = startExport(format);
      const jobId = await bad.header;

      // While the plugin is stuck (or already failed), the service serves everything else.
      const health = createClient(Health, createGrpcTransport({ baseUrl: s.transfer.url }));
      expect((await health.check({ service: "dataexchange.transfer.v1.TransferService" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      expect((await s.client.listFormats({})).formats.map((f) => f.name)).toContain(format);
      const good = await exportFile(s.client, { entity: Entity.USERS, format: "csv", fields: FIELDS });
      expect(good.summary.records).toBe(BigInt(USERS));

      const error = await bad.outcome;
      expect(error?.code).toBe(Code.Internal);
      expect(error?.rawMessage).toContain(message);
      const { job } = await s.client.getJob({ jobId });
      expect(job?.state).toBe(JobState.FAILED);
      expect(job?.error).toContain(message);

      const after = pool.stats();
      if (kind === "failed") expect(after.ended).toEqual(before.ended);
      else expect(after.ended[kind]).toBe(before.ended[kind] + 1);
      // The pool goes on with a fresh worker for the next job.
      expect((await exportFile(s.client, { entity: Entity.USERS, format: "csv", fields: FIELDS, limit: 10n })).summary.records).toBe(10n);
      expect(pool.stats().jobs).toBeGreaterThan(after.jobs);
    });
  });

  it("stops an import at the row and line of a FormatError thrown by a reader in a worker, after writing the row before it", async () => {
    const events: ImportResponse[] = [];
    const requests = (async function* () {
      yield { message: { case: "header" as const, value: create(ImportHeaderSchema, { entity: Entity.USERS, format: "throws", mode: WriteMode.UPSERT }) } };
      yield { message: { case: "chunk" as const, value: Buffer.from("any bytes: the test reader makes up its rows") } };
    })();
    const error = await (async () => {
      for await (const response of s.client.import(requests)) events.push(response);
    })().then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(error?.code).toBe(Code.InvalidArgument);
    expect(error?.rawMessage).toBe("the import stopped at row 2 (line 3): the second record is broken on purpose");
    const rowErrors = events.flatMap((e) => (e.event.case === "rowError" ? [e.event.value] : []));
    expect(rowErrors).toEqual([expect.objectContaining({ row: 2n, line: 3n, reason: "the second record is broken on purpose", code: "format" })]);
    const summary = events.find((e) => e.event.case === "summary")?.event.value as ImportSummary;
    expect(summary).toMatchObject({ read: 1n, failed: 0n });
    expect(summary.inserted + summary.updated).toBe(1n);
  });
});

describe("closing the service", () => {
  it("ends every format worker thread", async () => {
    const other = await startServices({ config: { formatWorkers: { mode: "workers", poolSize: 2 } } });
    const pool = other.transfer.formatWorkers.pool!;
    try {
      await exportFile(other.client, { entity: Entity.USERS, format: "ndjson" });
      expect(pool.stats().workers).toBeGreaterThan(0);
    } finally {
      await other.close();
    }
    expect(pool.stats()).toMatchObject({ workers: 0, starting: 0, busy: 0, idle: 0 });
  });
});
