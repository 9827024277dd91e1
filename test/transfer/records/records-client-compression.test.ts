/**
 * The transfer service asks the records service for records uncompressed:
 * the two are one deployment, and gzip of every batch of an export cost CPU
 * on both sides (records-client.ts). Seen from the records side: the
 * request headers of a call, taken by a plain HTTP/2 server.
 */
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Entity } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { createRecordsClient } from "../../../services/transfer/records/records-client.js";

describe("the transfer service's records client", () => {
  const seen: http2.IncomingHttpHeaders[] = [];
  let server: http2.Http2Server;
  let url = "";
  beforeAll(async () => {
    server = http2.createServer((req, res) => {
      seen.push(req.headers);
      // A gRPC answer with no messages and an error status: enough for the client to end the call.
      res.writeHead(200, { "content-type": "application/grpc" });
      res.addTrailers({ "grpc-status": "5", "grpc-message": "stand-in" });
      res.end();
    });
    server.on("session", (session) => sessions.add(session));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  afterAll(async () => {
    // The client keeps its HTTP/2 session open; close() would wait for it.
    for (const session of sessions) session.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("accepts no compression of what the records service answers, and sends none", async () => {
    const client = createRecordsClient(url);
    await client.countRecords({ entity: Entity.USERS }).catch(() => undefined);
    const stream = client.streamRecords({ entity: Entity.USERS });
    await (async () => {
      for await (const _ of stream);
    })().catch(() => undefined);
    expect(seen).toHaveLength(2);
    for (const headers of seen) {
      expect(headers["grpc-accept-encoding"] ?? "identity").toBe("identity");
      expect(headers["grpc-encoding"] ?? "identity").toBe("identity");
    }
  });
});
