/**
 * A real server on port 0 with what every service serves (health, reflection)
 * plus the records API routed with no implementation (its methods answer
 * UNIMPLEMENTED, which is enough to prove routing and reflection), and a plain
 * HTTP/1.1 route.
 */
import { Duplex } from "node:stream";
import net from "node:net";
import { RecordsService } from "../../gen/dataexchange/records/v1/records_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { HealthService, ServingStatus } from "../../services/shared/rpc/health-service.js";
import { registerReflection } from "../../services/shared/rpc/reflection-routes.js";
import { startRpcServer, type RpcServer, type RpcServerOptions } from "../../services/shared/rpc/serve.js";

export const RECORDS = RecordsService.typeName;

export interface Fixture {
  server: RpcServer;
  health: HealthService;
  /** `host:port`, as grpc-js wants it. */
  address: string;
}

export async function startFixture(options: Partial<RpcServerOptions> = {}): Promise<Fixture> {
  const health = new HealthService([[RECORDS, ServingStatus.SERVING]]);
  const server = await startRpcServer({
    routes: (router) => {
      router.service(RecordsService, {});
      router.service(Health, health);
      registerReflection(router);
    },
    http1: (req, res) => {
      if (req.method === "GET" && req.url === "/hello") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("hello over HTTP/1.1");
        return true;
      }
      if (req.url === "/boom") throw new Error("plain handler failed on purpose");
      return false;
    },
    onError: () => {},
    ...options,
  });
  return { server, health, address: `127.0.0.1:${server.port}` };
}

/**
 * A connection to `port` that sends everything written to it in chunks of
 * `size` bytes, one per event-loop turn, so the server sees the HTTP/2 preface
 * (and the rest) arrive piecemeal.
 */
export function tricklingConnection(port: number, size = 1): Duplex {
  const socket = net.connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  const duplex = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      void (async () => {
        for (let i = 0; i < chunk.length; i += size) {
          await new Promise<void>((resolve, reject) => socket.write(chunk.subarray(i, i + size), (e) => (e ? reject(e) : resolve())));
          await new Promise((resolve) => setImmediate(resolve));
        }
      })().then(() => callback(), callback);
    },
    read() {
      socket.resume();
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(error, callback) {
      socket.destroy();
      callback(error);
    },
  });
  socket.on("data", (data: Buffer) => {
    if (!duplex.push(data)) socket.pause();
  });
  socket.on("end", () => duplex.push(null));
  socket.on("error", (error) => duplex.destroy(error));
  return duplex;
}
