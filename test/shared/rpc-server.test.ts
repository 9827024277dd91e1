import http2 from "node:http2";
import net from "node:net";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordsService } from "../../gen/dataexchange/records/v1/records_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ServingStatus } from "../../services/shared/rpc/health-service.js";
import { isMain } from "../../services/shared/process/is-main.js";
import { RECORDS, startFixture, tricklingConnection, type Fixture } from "./rpc-fixture.js";

/** Sends raw bytes, optionally one at a time, and returns everything the server answers until it closes. */
async function rawExchange(port: number, request: string, chunkSize = Infinity): Promise<string> {
  const socket = net.connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  const received: Buffer[] = [];
  socket.on("data", (d: Buffer) => received.push(d));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  // The server may answer and close before the last bytes are written (EPIPE):
  // that is a normal end of the exchange, not a failure of the test.
  socket.on("error", () => undefined);
  const bytes = Buffer.from(request, "latin1");
  for (let i = 0; i < bytes.length && !socket.destroyed; i += chunkSize) {
    await new Promise<void>((resolve) => socket.write(bytes.subarray(i, i + chunkSize), () => resolve()));
    await new Promise((resolve) => setImmediate(resolve));
  }
  await closed;
  return Buffer.concat(received).toString("latin1");
}

/** One HTTP/2 request over a given connection (or a fresh one), returning status and body. */
async function h2Request(url: string, headers: http2.OutgoingHttpHeaders, body?: string, createConnection?: () => import("node:stream").Duplex): Promise<{ status: number; body: string }> {
  const session = http2.connect(url, createConnection ? { createConnection } : {});
  try {
    return await new Promise((resolve, reject) => {
      const req = session.request(headers);
      let status = 0;
      const chunks: Buffer[] = [];
      req.on("response", (h) => (status = Number(h[":status"])));
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => resolve({ status, body: Buffer.concat(chunks).toString() }));
      req.on("error", reject);
      req.end(body);
    });
  } finally {
    session.close();
  }
}

describe("an RPC server on one port", () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await startFixture();
  });
  afterAll(async () => fx?.server.close());

  const transports: [string, () => Transport][] = [
    ["gRPC over HTTP/2", () => createGrpcTransport({ baseUrl: fx.server.url })],
    ["the Connect protocol over HTTP/2", () => createConnectTransport({ baseUrl: fx.server.url, httpVersion: "2" })],
    ["the Connect protocol over HTTP/1.1", () => createConnectTransport({ baseUrl: fx.server.url, httpVersion: "1.1" })],
    ["the Connect protocol with JSON over HTTP/1.1", () => createConnectTransport({ baseUrl: fx.server.url, httpVersion: "1.1", useBinaryFormat: false })],
    ["gRPC-Web over HTTP/1.1", () => createGrpcWebTransport({ baseUrl: fx.server.url, httpVersion: "1.1" })],
  ];

  it.each(transports)("answers unary calls with %s", async (_name, transport) => {
    const client = createClient(Health, transport());
    expect((await client.check({ service: RECORDS })).status).toBe(ServingStatus.SERVING);
  });

  it.each(transports)("streams server responses with %s", async (_name, transport) => {
    const client = createClient(Health, transport());
    const abort = new AbortController();
    for await (const response of client.watch({ service: RECORDS }, { signal: abort.signal })) {
      expect(response.status).toBe(ServingStatus.SERVING);
      break;
    }
    abort.abort();
  });

  it.each(transports)("passes RPC errors through with %s", async (_name, transport) => {
    const client = createClient(RecordsService, transport());
    const error = await client.countRecords({}).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(error?.code).toBe(Code.Unimplemented);
  });

  it("tries the plain HTTP/1.1 handler first", async () => {
    const response = await fetch(`${fx.server.url}/hello`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("hello over HTTP/1.1");
  });

  it("falls through from the plain handler to Connect for RPC paths over HTTP/1.1 (curl with JSON)", async () => {
    const response = await fetch(`${fx.server.url}/grpc.health.v1.Health/Check`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "SERVING" });
  });

  it("answers 404 with a JSON body for an unknown path over HTTP/1.1", async () => {
    const response = await fetch(`${fx.server.url}/no/such/path`);
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.json()).toEqual({ code: "not_found", message: "no route for GET /no/such/path" });
  });

  it("answers 404 with a JSON body for an unknown path over HTTP/2", async () => {
    const { status, body } = await h2Request(fx.server.url, { ":method": "GET", ":path": "/no/such/path" });
    expect(status).toBe(404);
    expect(JSON.parse(body)).toMatchObject({ code: "not_found" });
  });

  it("answers 500 with a JSON body when the plain handler throws, and keeps serving", async () => {
    const response = await fetch(`${fx.server.url}/boom`);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ code: "internal", message: "internal error" });
    expect((await fetch(`${fx.server.url}/hello`)).status).toBe(200);
  });

  it.each([1, 2, 5, 23])("recognizes an HTTP/2 connection whose bytes arrive in chunks of %i", async (size) => {
    const { status, body } = await h2Request(fx.server.url, { ":method": "POST", ":path": "/grpc.health.v1.Health/Check", "content-type": "application/json" }, "{}", () =>
      tricklingConnection(fx.server.port, size),
    );
    expect(status).toBe(200);
    expect(JSON.parse(body)).toEqual({ status: "SERVING" });
  });

  it.each([
    ["GET", "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "hello over HTTP/1.1"],
    // "P" is also the first byte of the HTTP/2 preface: the decision waits for the second byte.
    ["POST", "POST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", '{"status":"SERVING"}'],
    // Shares "PRI * HTTP/2.0" with the preface and only differs after it.
    ["PRI", "PRI * HTTP/2.0\r\nHost: x\r\nConnection: close\r\n\r\n", "HTTP/1.1 4"],
  ])("recognizes an HTTP/1.1 %s request sent one byte at a time", async (_method, request, expected) => {
    const response = await rawExchange(fx.server.port, request, 1);
    expect(response).toContain(expected);
  });

  it("drops a connection that closes before sending a byte, and keeps serving", async () => {
    const socket = net.connect(fx.server.port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.end();
    await new Promise((resolve) => socket.once("close", resolve));
    expect((await fetch(`${fx.server.url}/hello`)).status).toBe(200);
  });
});

/**
 * Longer than any test may run: a close that finishes under it did not wait
 * for the grace period to destroy what was left, so a close that would hang
 * without that last resort fails the test instead of passing slowly.
 */
const NO_GRACE_IN_TIME = 10 * 60_000;

describe("closing an RPC server", () => {
  it("finishes with an open Watch stream, an HTTP/2 session and an idle HTTP/1.1 keep-alive socket, without waiting for the grace period", async () => {
    const fx = await startFixture({ closeGraceMs: NO_GRACE_IN_TIME });
    const client = createClient(Health, createGrpcTransport({ baseUrl: fx.server.url }));
    const seen: ServingStatus[] = [];
    let firstSeen!: () => void;
    const first = new Promise<void>((resolve) => (firstSeen = resolve));
    const watching = (async () => {
      for await (const response of client.watch({ service: RECORDS })) {
        seen.push(response.status);
        firstSeen();
      }
    })().catch((e: unknown) => ConnectError.from(e));
    await first;
    // fetch (undici) keeps its HTTP/1.1 socket open and idle after the response.
    expect(await (await fetch(`${fx.server.url}/hello`)).text()).toBe("hello over HTTP/1.1");

    fx.health.shutdown();
    await fx.server.close();
    await watching;
    expect(seen).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
  });

  it("finishes even when a connection has sent only part of the HTTP/2 preface, without waiting for the grace period", async () => {
    const fx = await startFixture({ closeGraceMs: NO_GRACE_IN_TIME });
    const socket = net.connect(fx.server.port, "127.0.0.1");
    socket.on("error", () => {});
    await new Promise<void>((resolve) => socket.write("PRI * HT", () => resolve()));
    await fx.server.close();
  });

  it("is idempotent and refuses new connections afterwards", async () => {
    const fx = await startFixture();
    await Promise.all([fx.server.close(), fx.server.close()]);
    await expect(fetch(`${fx.server.url}/hello`)).rejects.toThrow();
  });

  it("ends in-flight calls after the grace period when their handlers ignore the shutdown signal", async () => {
    const { startRpcServer } = await import("../../services/shared/rpc/serve.js");
    const server = await startRpcServer({
      closeGraceMs: 100,
      routes: (router) =>
        router.service(Health, {
          // Ignores its signal and never ends.
          async *watch() {
            yield { status: ServingStatus.SERVING };
            await new Promise(() => {});
          },
        }),
    });
    const client = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    const stream = client.watch({})[Symbol.asyncIterator]();
    await stream.next();
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    // The handler ignores the signal: only the grace period's end can finish the close.
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    await closing;
    await expect(stream.next()).rejects.toThrow();
  });
});

describe("isMain", () => {
  it("is false for a module that the test runner imported", () => {
    expect(isMain(import.meta.url)).toBe(false);
  });

  it("is true for the module given as the process entry", () => {
    const saved = process.argv[1];
    try {
      process.argv[1] = new URL(import.meta.url).pathname;
      expect(isMain(import.meta.url)).toBe(true);
    } finally {
      process.argv[1] = saved!;
    }
  });
});
