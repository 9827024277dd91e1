/**
 * The one server builder both services use: gRPC, gRPC-Web and Connect over
 * HTTP/2 (h2c), and Connect plus plain HTTP routes over HTTP/1.1, all on one
 * TCP port.
 *
 * Why one port for both HTTP versions: gRPC clients (grpc-js, grpc-go, buf
 * curl) need HTTP/2, while browsers and plain `curl` speak HTTP/1.1 to a
 * cleartext port, and the seed's `GET /export/{format}` / `POST /import` must
 * keep working with `curl` as documented. An h2c-only server refuses HTTP/1.1,
 * so each connection's first bytes are looked at: the HTTP/2 connection
 * preface goes to an `http2` server, anything else to an `http` server.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import http2 from "node:http2";
import net, { type AddressInfo, type Socket } from "node:net";
import { Code, ConnectError, type ConnectRouter, type ConnectRouterOptions, type ContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { pathOf } from "../logging/http-request-logging.js";
import { connectJsonText } from "./connect-json-text.js";
import { routeByPreface, type ConnectionKind, type NodeServerRequest, type NodeServerResponse } from "./connection-sniffer.js";
import { sendJson } from "./send-json.js";

/**
 * A plain HTTP/1.1 route handler, tried before the RPC routes. Returns true
 * when it answered, false to fall through to Connect (and then to 404). It
 * must decide before reading the request body: a fallen-through request is
 * handed on as it is.
 */
export type PlainHttpHandler = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

/** Options of {@link startRpcServer}; router options (interceptors, readMaxBytes, …) pass through to Connect. */
export interface RpcServerOptions extends ConnectRouterOptions {
  /** Interface to bind; defaults to 127.0.0.1 (bind 0.0.0.0 or :: deliberately). */
  host?: string;
  /** TCP port; 0 (the default) picks a free one, reported in the result. */
  port?: number;
  /** Registers the RPC services, e.g. `(router) => router.service(RecordsService, impl)`. */
  routes: (router: ConnectRouter) => void;
  /** Plain HTTP/1.1 routes (downloads, multipart uploads), tried first. */
  http1?: PlainHttpHandler;
  /** Values for `HandlerContext.values`, e.g. the authenticated principal. */
  contextValues?: (req: NodeServerRequest) => ContextValues;
  /**
   * How long close() lets in-flight calls finish after aborting their handler
   * signals before destroying their connections. Default 1000 ms.
   */
  closeGraceMs?: number;
  /** Options of the HTTP/2 server (e.g. `maxSessionMemory`, `settings`). */
  http2Options?: http2.ServerOptions;
  /**
   * Options of the HTTP/1.1 server. `requestTimeout` defaults to 0 (off) here,
   * not Node's 300 s: a multipart upload of a large import may take longer,
   * and `headersTimeout` still guards against clients that never send headers.
   */
  http1Options?: http.ServerOptions;
  /** Where failures of the plain HTTP handler are reported; default console.error. */
  onError?: (error: unknown, req: IncomingMessage) => void;
}

/** A listening server. */
export interface RpcServer {
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** Base URL, e.g. `http://127.0.0.1:50051`, for Connect transports and grpc-js (`host:port` part). */
  readonly url: string;
  /**
   * Stops accepting connections, aborts every handler's signal with
   * UNAVAILABLE (so server-streams such as Health.Watch end), sends HTTP/2
   * GOAWAY, closes idle HTTP/1.1 keep-alive sockets, and after `closeGraceMs`
   * destroys whatever is left. Resolves when every connection is closed.
   * Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Starts a server on one port for HTTP/2 (gRPC, gRPC-Web, Connect) and
 * HTTP/1.1 (Connect unary and server-streaming, plain routes).
 *
 * Every accepted socket is tracked and destroyed at close: Node's servers
 * otherwise wait for keep-alive sockets and open streams, and a shutdown hangs
 * for seconds (or forever, with a Watch stream open).
 */
export async function startRpcServer(options: RpcServerOptions): Promise<RpcServer> {
  const { host = "127.0.0.1", port = 0, http1, closeGraceMs = 1000, onError = defaultOnError, http2Options = {}, http1Options = {}, ...adapterOptions } = options;
  const shutdown = new AbortController();
  const shutdownSignal = adapterOptions.shutdownSignal ? AbortSignal.any([adapterOptions.shutdownSignal, shutdown.signal]) : shutdown.signal;
  // Connect's type for jsonOptions leaves out the textDecoder it takes (its JsonSerializationOptions).
  const jsonOptions: typeof adapterOptions.jsonOptions & { textDecoder: typeof connectJsonText } = { ...adapterOptions.jsonOptions, textDecoder: connectJsonText };
  const rpcHandler = connectNodeAdapter({ ...adapterOptions, jsonOptions, shutdownSignal, fallback: notFound });

  /** Every accepted socket, with the server it was handed to (undefined while peeking). */
  const sockets = new Map<Socket, ConnectionKind | undefined>();
  const busy = new Map<Socket, number>();
  const sessions = new Set<http2.ServerHttp2Session>();
  let closing = false;

  const h2Server = http2.createServer(http2Options, rpcHandler);
  h2Server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    if (closing) session.close();
  });

  const h1Server = http.createServer({ requestTimeout: 0, ...http1Options }, (req, res) => {
    const socket = req.socket;
    busy.set(socket, (busy.get(socket) ?? 0) + 1);
    res.once("close", () => {
      const left = (busy.get(socket) ?? 1) - 1;
      if (left > 0) busy.set(socket, left);
      else busy.delete(socket);
      if (closing && left <= 0) socket.destroySoon();
    });
    if (closing) res.shouldKeepAlive = false;
    void handleHttp1(req, res);
  });

  async function handleHttp1(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (http1 && (await http1(req, res))) return;
    } catch (error) {
      onError(error, req);
      if (!res.headersSent) sendJson(res, 500, { code: "internal", message: "internal error" });
      else res.destroy(error instanceof Error ? error : undefined);
      return;
    }
    rpcHandler(req, res);
  }

  const listener = net.createServer((socket) => {
    sockets.set(socket, undefined);
    socket.once("close", () => {
      sockets.delete(socket);
      busy.delete(socket);
    });
    // Errors after hand-off are handled by the HTTP servers too; this keeps a
    // reset during the peek from becoming an uncaught exception.
    socket.on("error", () => {});
    routeByPreface(socket, (kind) => {
      sockets.set(socket, kind);
      (kind === "h2" ? h2Server : h1Server).emit("connection", socket);
    });
  });

  await new Promise<void>((resolveListen, reject) => {
    listener.once("error", reject);
    listener.listen(port, host, () => {
      listener.off("error", reject);
      resolveListen();
    });
  });
  const bound = (listener.address() as AddressInfo).port;

  let closed: Promise<void> | undefined;
  function close(): Promise<void> {
    closed ??= new Promise<void>((resolveClose) => {
      closing = true;
      const timer = setTimeout(() => {
        for (const socket of sockets.keys()) socket.destroy();
      }, closeGraceMs);
      timer.unref();
      listener.close(() => {
        clearTimeout(timer);
        resolveClose();
      });
      shutdown.abort(new ConnectError("server is shutting down", Code.Unavailable));
      for (const session of sessions) session.close();
      for (const [socket, kind] of sockets) {
        // Still peeking (not even a full preface sent): belongs to neither server.
        if (kind === undefined) socket.destroy();
        // Idle keep-alive: nothing to wait for.
        else if (kind === "http1" && !busy.has(socket)) socket.destroySoon();
      }
    });
    return closed;
  }

  return { port: bound, url: `http://${formatHost(host)}:${bound}`, close };
}

function notFound(req: NodeServerRequest, res: NodeServerResponse): void {
  sendJson(res, 404, { code: "not_found", message: `no route for ${req.method} ${req.url}` });
}

function defaultOnError(error: unknown, req: IncomingMessage): void {
  console.error(`plain HTTP handler failed for ${req.method} ${pathOf(req.url)}`, error);
}

function formatHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}
