/**
 * A TCP proxy in front of a MongoDB server that cuts a connection at a
 * chosen point of a command — a real connection reset, as a crash or a
 * network fault gives, at a moment a test can name instead of hoping a
 * SIGKILL lands there:
 * - `"request"`: the connection carrying the next such command (`insert`,
 *   `find`, `getMore`, …) is cut before the command reaches the server
 *   (nothing of it is done);
 * - `"answer"`: the command reaches the server, which carries it out, and
 *   the connection is cut before its answer reaches the client.
 * `refuse()` then makes the server unreachable (new connections are closed at
 * once) until `accept()`. Everything else passes through untouched.
 */
import { createServer, connect, type Server, type Socket } from "node:net";

/**
 * Whether a chunk sent to the server carries `command`: an OP_MSG body starts
 * with the command's BSON element (type byte, name, NUL) — a string for
 * `insert` or `find`, a 64-bit integer for `getMore`.
 */
function carries(chunk: Buffer, command: string): boolean {
  return [0x02, 0x12, 0x10].some((type) => chunk.includes(Buffer.concat([Buffer.of(type), Buffer.from(`${command}\x00`, "latin1")])));
}

export type CutPoint = "request" | "answer";

export interface CuttingProxy {
  uri: string;
  /** Cuts the next insert at `point`; resolves once it has been cut. */
  cutNextInsert(point: CutPoint): Promise<void>;
  /**
   * Cuts the next `times` (default 1) `command`s (e.g. "find", "getMore",
   * "aggregate") at `point`; resolves once the last has been cut. Twice gets
   * past the driver's own single retry of a read.
   */
  cutNext(command: string, point: CutPoint, times?: number): Promise<void>;
  refuse(): void;
  accept(): void;
  close(): Promise<void>;
}

export async function startCuttingProxy(upstreamPort: number): Promise<CuttingProxy> {
  const sockets = new Set<Socket>();
  let armed: { command: string; point: CutPoint; times: number; done: () => void } | undefined;
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
      if (armed && carries(chunk, armed.command)) {
        const { point } = armed;
        const done = --armed.times === 0 ? armed.done : () => undefined;
        if (armed.times === 0) armed = undefined;
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
    cutNextInsert: (point) => new Promise<void>((done) => (armed = { command: "insert", point, times: 1, done })),
    cutNext: (command, point, times = 1) => new Promise<void>((done) => (armed = { command, point, times, done })),
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
