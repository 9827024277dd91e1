import { Code, ConnectError, createClient, createHandlerContext, createRouterTransport } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Health, HealthCheckRequestSchema } from "../../gen/grpc/health/v1/health_pb.js";
import { HealthService, OVERALL_HEALTH, ServingStatus } from "../../services/shared/rpc/health-service.js";

const RECORDS = "dataexchange.records.v1.RecordsService";

function watchContext(signal: AbortSignal) {
  return createHandlerContext({
    service: Health,
    method: Health.method.watch,
    protocolName: "test",
    requestMethod: "POST",
    url: "http://test/grpc.health.v1.Health/Watch",
    requestSignal: signal,
  });
}

function request(service: string) {
  return create(HealthCheckRequestSchema, { service });
}

describe("HealthService, called directly", () => {
  it("reports the overall status as SERVING from the start", () => {
    expect(new HealthService().check(request(OVERALL_HEALTH)).status).toBe(ServingStatus.SERVING);
  });

  it("answers NOT_FOUND for a service that was never registered", () => {
    const health = new HealthService();
    let error: unknown;
    try {
      health.check(request("no.such.Service"));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.NotFound);
  });

  it("reports a registered service's latest status", () => {
    const health = new HealthService([[RECORDS, ServingStatus.NOT_SERVING]]);
    expect(health.check(request(RECORDS)).status).toBe(ServingStatus.NOT_SERVING);
    health.setStatus(RECORDS, ServingStatus.SERVING);
    expect(health.check(request(RECORDS)).status).toBe(ServingStatus.SERVING);
  });

  it("flips every service to NOT_SERVING at shutdown and ignores later updates", () => {
    const health = new HealthService([[RECORDS, ServingStatus.SERVING]]);
    health.shutdown();
    health.setStatus(RECORDS, ServingStatus.SERVING);
    expect(health.check(request(OVERALL_HEALTH)).status).toBe(ServingStatus.NOT_SERVING);
    expect(health.check(request(RECORDS)).status).toBe(ServingStatus.NOT_SERVING);
  });

  it("lists every registered service with its status", () => {
    const health = new HealthService([[RECORDS, ServingStatus.NOT_SERVING]]);
    const statuses = health.list().statuses;
    expect(Object.keys(statuses).sort()).toEqual([OVERALL_HEALTH, RECORDS]);
    expect(statuses[RECORDS]?.status).toBe(ServingStatus.NOT_SERVING);
  });

  it("watches: sends the current status, then each change, and ends when the call is aborted", async () => {
    const health = new HealthService([[RECORDS, ServingStatus.SERVING]]);
    const abort = new AbortController();
    const stream = health.watch(request(RECORDS), watchContext(abort.signal));
    expect((await stream.next()).value?.status).toBe(ServingStatus.SERVING);
    const next = stream.next();
    health.setStatus(RECORDS, ServingStatus.SERVING); // not a change: nothing is sent
    health.setStatus(RECORDS, ServingStatus.NOT_SERVING);
    expect((await next).value?.status).toBe(ServingStatus.NOT_SERVING);
    const last = stream.next();
    abort.abort();
    expect((await last).done).toBe(true);
  });

  it("watches an unknown service as SERVICE_UNKNOWN without ending, until it becomes known", async () => {
    const health = new HealthService();
    const abort = new AbortController();
    const stream = health.watch(request(RECORDS), watchContext(abort.signal));
    expect((await stream.next()).value?.status).toBe(ServingStatus.SERVICE_UNKNOWN);
    health.setStatus(RECORDS, ServingStatus.SERVING);
    expect((await stream.next()).value?.status).toBe(ServingStatus.SERVING);
    health.clearStatus(RECORDS);
    expect((await stream.next()).value?.status).toBe(ServingStatus.SERVICE_UNKNOWN);
    abort.abort();
    expect((await stream.next()).done).toBe(true);
  });

  it("gives a slow watcher the latest status rather than a backlog", async () => {
    const health = new HealthService([[RECORDS, ServingStatus.SERVING]]);
    const abort = new AbortController();
    const stream = health.watch(request(RECORDS), watchContext(abort.signal));
    await stream.next();
    health.setStatus(RECORDS, ServingStatus.NOT_SERVING);
    health.setStatus(RECORDS, ServingStatus.UNKNOWN);
    expect((await stream.next()).value?.status).toBe(ServingStatus.UNKNOWN);
    abort.abort();
    await stream.return(undefined);
  });
});

describe("HealthService, over an in-memory Connect transport", () => {
  function clientFor(health: HealthService) {
    return createClient(
      Health,
      createRouterTransport(({ service }) => service(Health, health)),
    );
  }

  it("answers Check and turns an unknown service into a NotFound ConnectError", async () => {
    const client = clientFor(new HealthService());
    expect((await client.check({})).status).toBe(ServingStatus.SERVING);
    const error = await client.check({ service: "no.such.Service" }).catch((e: unknown) => ConnectError.from(e));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.NotFound);
  });

  it("streams Watch updates until the client cancels", async () => {
    const health = new HealthService([[RECORDS, ServingStatus.SERVING]]);
    const client = clientFor(health);
    const abort = new AbortController();
    const seen: ServingStatus[] = [];
    for await (const response of client.watch({ service: RECORDS }, { signal: abort.signal })) {
      seen.push(response.status);
      if (seen.length === 1) health.shutdown();
      else break;
    }
    abort.abort();
    expect(seen).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
  });

  it("lists statuses", async () => {
    const client = clientFor(new HealthService([[RECORDS, ServingStatus.SERVING]]));
    const { statuses } = await client.list({});
    expect(statuses[RECORDS]?.status).toBe(ServingStatus.SERVING);
  });
});
