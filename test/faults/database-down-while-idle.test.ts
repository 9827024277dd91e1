/**
 * The database stopped (SIGKILL) while the services are idle: both report it
 * through grpc.health.v1 (NOT_SERVING), every call that needs the database
 * answers UNAVAILABLE quickly — within a 20 s deadline (with room for a
 * loaded machine), where the driver's default held each call 30 s — and
 * when the database comes
 * back both services serve again on their own, with no restart
 * (issues 20.6 and 18.4).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { Entity, RecordsService } from "../../gen/dataexchange/records/v1/records_pb.js";
import { TransferService } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { startFaultStack, waitFor, type FaultStack } from "./support/fault-stack.js";
import { coursesCsv, importCourses, serviceClient, transferClient } from "./support/transfer-calls.js";

/**
 * Longer than any answer of a service that fails fast (at most the 3 s retry budget plus one
 * 5 s server selection), shorter than the driver's default 30 s wait.
 */
const DEADLINE_MS = 20_000;

describe("the database stopped while the services are idle", () => {
  let stack: FaultStack;
  beforeAll(async () => {
    stack = await startFaultStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  const health = (url: string, service: string) =>
    serviceClient(Health, url)
      .check({ service }, { timeoutMs: 5_000 })
      .then((r) => r.status);
  const bothHealth = async () => [await health(stack.records.url, RecordsService.typeName), await health(stack.transfer.url, TransferService.typeName), await health(stack.transfer.url, "")];
  const codeOf = (call: Promise<unknown>) =>
    call.then(
      () => Code[0],
      (e: unknown) => Code[ConnectError.from(e).code],
    );

  it("answers UNAVAILABLE fast, reports NOT_SERVING, and serves again on its own when it is back", async () => {
    const records = serviceClient(RecordsService, stack.records.url, stack.tokens.records);
    const transfer = transferClient(stack.transfer.url, stack.tokens.transfer);
    const auth = { authorization: `Bearer ${stack.tokens.transfer}` };
    expect(await bothHealth()).toEqual([ServingStatus.SERVING, ServingStatus.SERVING, ServingStatus.SERVING]);
    expect((await importCourses(transfer, coursesCsv(10, "IDLE"), "insert")).summary?.inserted).toBe(10n);

    await stack.database.kill();
    await waitFor("both services to report NOT_SERVING", async () => ((await bothHealth()).every((s) => s === ServingStatus.NOT_SERVING) ? true : undefined), 20_000, 100);

    const options = { timeoutMs: DEADLINE_MS };
    expect(await codeOf(records.countRecords({ entity: Entity.COURSES }, options))).toBe("Unavailable");
    expect(await codeOf(transfer.listJobs({}, options))).toBe("Unavailable");
    const exporting = (async () => {
      for await (const _ of transfer.export({ entity: Entity.COURSES, format: "csv" }, options)) {
        // drain
      }
    })();
    expect(await codeOf(exporting)).toBe("Unavailable");
    const imported = await importCourses(transfer, coursesCsv(10, "DOWN"), "insert", { timeoutMs: DEADLINE_MS });
    expect(Code[imported.error?.code ?? 0]).toBe("Unavailable");
    const signal = AbortSignal.timeout(DEADLINE_MS);
    expect((await fetch(`${stack.transfer.url}/jobs`, { headers: auth, signal })).status).toBe(503);
    expect((await fetch(`${stack.transfer.url}/export/csv?entity=courses`, { headers: auth, signal })).status).toBe(503);

    await stack.database.restart();
    await waitFor("both services to report SERVING", async () => ((await bothHealth()).every((s) => s === ServingStatus.SERVING) ? true : undefined), 20_000, 100);
    expect(await records.countRecords({ entity: Entity.COURSES })).toMatchObject({ count: 10n });
    expect((await importCourses(transfer, coursesCsv(10, "BACK"), "insert")).summary?.inserted).toBe(10n);
    expect((await fetch(`${stack.transfer.url}/jobs`, { headers: auth })).status).toBe(200);
  }, 120_000);
});
