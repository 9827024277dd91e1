/**
 * Where `dx` connects and how: the transfer service at `--server`, else
 * `DX_SERVER`, else the one `npm start` runs on this machine
 * (http://127.0.0.1:$TRANSFER_PORT, 8000 by default — scripts/lib/dev-stack.ts).
 * A Connect client speaking gRPC over HTTP/2 (cleartext for http://, TLS for
 * https://, trusting `--ca` besides the system's authorities), so imports
 * stream both ways, with the bearer token on every call.
 */
import { readFileSync } from "node:fs";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { TransferService } from "../gen/dataexchange/transfer/v1/transfer_pb.js";
import { CliError, ExitCode } from "./exit-codes.js";

export type TransferClient = Client<typeof TransferService>;

/** The server URL a command uses (see the module comment). */
export function resolveServer(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const given = flag ?? env.DX_SERVER ?? `http://127.0.0.1:${env.TRANSFER_PORT || 8000}`;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new CliError(`the server must be a URL like http://127.0.0.1:8000, not ${JSON.stringify(given)}`, ExitCode.nothingWritten);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new CliError(`the server URL must start with http:// or https://, not ${url.protocol}//`, ExitCode.nothingWritten);
  if (url.search || url.hash) throw new CliError(`the server URL takes no query or fragment: ${given}`, ExitCode.nothingWritten);
  return url.href.replace(/\/$/, "");
}

export interface ConnectionOptions {
  server: string;
  token?: string;
  /** A PEM file of the certificate authority that signed the server's certificate. */
  ca?: string;
}

function readCa(path: string, server: string): Buffer {
  if (!server.startsWith("https:")) throw new CliError(`--ca applies to https:// servers only; ${server} is not one`, ExitCode.nothingWritten);
  try {
    return readFileSync(path);
  } catch (error) {
    throw new CliError(`cannot read --ca ${path}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`, ExitCode.nothingWritten);
  }
}

/** A client of the transfer service; calls carry the token, if any. */
export function connectTransfer(options: ConnectionOptions): TransferClient {
  const interceptors: Interceptor[] = [];
  if (options.token) {
    const bearer = `Bearer ${options.token}`;
    interceptors.push((next) => (request) => {
      request.header.set("authorization", bearer);
      return next(request);
    });
  }
  const transport = createGrpcTransport({
    baseUrl: options.server,
    interceptors,
    ...(options.ca ? { nodeOptions: { ca: readCa(options.ca, options.server) } } : {}),
  });
  return createClient(TransferService, transport);
}
