import type { NodeServerResponse } from "./connection-sniffer.js";

/** Writes a small JSON body (404s, 500s of the plain HTTP routes) on either HTTP version. */
export function sendJson(res: NodeServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
