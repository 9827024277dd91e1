/**
 * Tells HTTP/2-prior-knowledge connections from HTTP/1.1 ones by their first
 * bytes, so that one cleartext port can serve both (see serve.ts).
 */
import type { Socket } from "node:net";
import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";

/** connect-node's response type (HTTP/1.1 or HTTP/2 compat), which it does not export by name. */
export type NodeServerResponse = Parameters<NonNullable<ConnectNodeAdapterOptions["fallback"]>>[1];
/** connect-node's request type (HTTP/1.1 or HTTP/2 compat). */
export type NodeServerRequest = Parameters<NonNullable<ConnectNodeAdapterOptions["fallback"]>>[0];

/** RFC 9113 §3.4: every HTTP/2 connection starts with these 24 bytes. */
export const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** Which server a connection belongs to. */
export type ConnectionKind = "h2" | "http1";

/** How long a connection may stay silent before it is classified; slow-loris guard. */
const PEEK_TIMEOUT_MS = 10_000;

/**
 * Classifies what a connection has sent so far: "h2" once the full preface is
 * there, "http1" as soon as a byte differs from it, undefined while the bytes
 * are still a prefix of the preface (a client may send it one byte at a time).
 */
export function classifyPrefix(bytes: Uint8Array): ConnectionKind | undefined {
  const n = Math.min(bytes.length, HTTP2_PREFACE.length);
  for (let i = 0; i < n; i++) {
    if (bytes[i] !== HTTP2_PREFACE[i]) return "http1";
  }
  return bytes.length >= HTTP2_PREFACE.length ? "h2" : undefined;
}

/**
 * Reads a socket's first bytes until {@link classifyPrefix} decides, puts them
 * back with `unshift` and calls `route`, which hands the socket to a server
 * (`server.emit("connection", socket)`). Both Node servers then read the
 * unshifted bytes first: `http` through its 'data' listener, `http2` by
 * draining the socket's readable buffer into the session.
 *
 * The peek happens in paused mode ('readable' + `read()`), never with a 'data'
 * listener: a 'data' listener would switch the socket to flowing mode and
 * chunks could be emitted before the server is attached.
 * A connection that closes, or stays silent for 10 s, before deciding is destroyed.
 */
export function routeByPreface(socket: Socket, route: (kind: ConnectionKind) => void): void {
  const chunks: Buffer[] = [];
  let length = 0;
  const cleanup = () => {
    socket.off("readable", onReadable);
    socket.off("end", onEnd);
    socket.off("timeout", onEnd);
    socket.setTimeout(0);
  };
  const onEnd = () => {
    cleanup();
    socket.destroy();
  };
  function onReadable() {
    let chunk: Buffer | null;
    while ((chunk = socket.read() as Buffer | null) !== null) {
      chunks.push(chunk);
      length += chunk.length;
    }
    const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
    chunks.length = 0;
    chunks.push(head);
    const kind = classifyPrefix(head);
    if (kind === undefined) return;
    cleanup();
    socket.unshift(head);
    route(kind);
  }
  socket.on("readable", onReadable);
  socket.once("end", onEnd);
  socket.setTimeout(PEEK_TIMEOUT_MS);
  socket.once("timeout", onEnd);
}
