/**
 * A TCP proxy in front of a MongoDB server that cuts a connection at a
 * chosen point of a write — a real connection reset, as a crash or a network
 * fault gives, at a moment a test can name instead of hoping a SIGKILL lands
 * there:
 * - `"request"`: the connection carrying the next `insert` command is cut
 *   before the command reaches the server (nothing of it is stored);
 * - `"answer"`: the command reaches the server, which stores it, and the
 *   connection is cut before its answer reaches the client.
 * `refuse()` then makes the server unreachable (new connections are closed at
 * once) until `accept()`. Everything else passes through untouched.
 */
import { createServer, connect, type Server, type Socket } from "node:net";

/** An OP_MSG whose command is `insert`: its body starts with the BSON string element `insert`. */
const INSERT_COMMAND = Buffer.from("\x02insert\x00", "latin1");

export type CutPoint = "request" | "answer";

export interface CuttingProxy {
  uri: string;
  /** Cuts the next insert at `point`; resolves once it has been cut. */
  cutNextInsert(point: CutPoint): Promise<void>;
  refuse(): void;
  accept(): void;
  close(): Promise<void>;
}

export async function startCuttingProxy(upstreamPort: number): Promise<CuttingProxy> {
  const sockets = new Set<Socket>();
  let armed: { point: CutPoint; done: () => void } | undefined;
  let refusing = false;
  const server: Server = createServer((client) => {
    if (refusing) return void client.destroy();
    const upstream = connect({ host: "127.0.0.1", port: upstreamPort });
    sockets.add(client).add(upstream);
    let cutOnAnswer: (() => void) | undefined;
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("data", (chunk: Buffer) => {
      if (armed && chunk.includes(INSERT_COMMAND)) {
        const { point, done } = armed;
        armed = undefined;
        if (point === "request") {
          cut();
          return done();
        }
        cutOnAnswer = done;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (cutOnAnswer) {
        cut();
        return cutOnAnswer();
      }
      client.write(chunk);
    });
    for (const socket of [client, upstream]) {
      socket.on("error", cut);
      socket.on("close", () => {
        sockets.delete(socket);
        cut();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    cutNextInsert: (point) => new Promise<void>((done) => (armed = { point, done })),
    refuse() {
      refusing = true;
      for (const socket of sockets) socket.destroy();
    },
    accept() {
      refusing = false;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
