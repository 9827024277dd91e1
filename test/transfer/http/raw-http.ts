/**
 * HTTP/1.x requests written byte for byte on a TCP socket, for what fetch
 * cannot send: HTTP/1.0 (what nginx speaks to backends by default), a request
 * line with a malformed percent-escape, a download cut off after some bytes.
 * The answer is read to the end of the connection (`Connection: close`) and
 * parsed: status, headers, body (de-chunked), and trailers when chunked.
 */
import net from "node:net";

export interface RawResponse {
  /** The status line's HTTP version, e.g. `HTTP/1.1`. */
  version: string;
  status: number;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  /** Trailers of a chunked body (empty otherwise). */
  trailers: Record<string, string>;
  /** True when the body was chunked and ended with its last chunk (a complete download). */
  chunkedComplete: boolean;
}

export interface RawRequest {
  method?: string;
  /** Request target as sent, unencoded: `/export/csv?entity=users`. */
  target: string;
  version?: "1.0" | "1.1";
  headers?: Record<string, string>;
  /** Close the socket after this many bytes of the answer have arrived (a client that goes away). */
  abortAfterBytes?: number;
  /** Fail when the server has not closed the connection after this long (default 15 s): a hung server fails the test instead of stalling it. */
  timeoutMs?: number;
}

/** Sends one request on a fresh connection and reads the answer until the server closes it. */
export function rawRequest(baseUrl: string, request: RawRequest): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const lines = [`${request.method ?? "GET"} ${request.target} HTTP/${request.version ?? "1.1"}`, `Host: ${url.host}`, "Connection: close"];
  for (const [name, value] of Object.entries(request.headers ?? {})) lines.push(`${name}: ${value}`);
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let received = 0;
    const socket = net.connect(Number(url.port), url.hostname, () => socket.write(`${lines.join("\r\n")}\r\n\r\n`));
    socket.on("data", (chunk: Buffer) => {
      parts.push(chunk);
      received += chunk.byteLength;
      if (request.abortAfterBytes !== undefined && received >= request.abortAfterBytes) socket.destroy();
    });
    socket.setTimeout(request.timeoutMs ?? 15_000, () => {
      socket.destroy();
      reject(new Error(`${request.method ?? "GET"} ${request.target}: no complete answer within ${request.timeoutMs ?? 15_000} ms`));
    });
    socket.on("error", reject);
    socket.on("close", () => {
      if (request.abortAfterBytes !== undefined && received >= request.abortAfterBytes)
        return resolve({ version: "", status: 0, headers: {}, body: Buffer.concat(parts), trailers: {}, chunkedComplete: false });
      try {
        resolve(parseResponse(Buffer.concat(parts), request.method === "HEAD"));
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}

function headerBlock(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split("\r\n")) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return headers;
}

export function parseResponse(raw: Buffer, head = false): RawResponse {
  const end = raw.indexOf("\r\n\r\n");
  if (end === -1) throw new Error(`no complete response head in ${raw.byteLength} bytes`);
  const [statusLine = "", ...headerLines] = raw.subarray(0, end).toString("latin1").split("\r\n");
  const [version = "", status = "0"] = statusLine.split(" ");
  const headers = headerBlock(headerLines.join("\r\n"));
  const rest = raw.subarray(end + 4);
  const response: RawResponse = { version, status: Number(status), headers, body: rest, trailers: {}, chunkedComplete: false };
  if (head || !/chunked/i.test(headers["transfer-encoding"] ?? "")) return response;
  const chunks: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = rest.indexOf("\r\n", at);
    if (lineEnd === -1) break;
    const size = parseInt(rest.subarray(at, lineEnd).toString("latin1"), 16);
    if (Number.isNaN(size)) break;
    if (size === 0) {
      const trailerEnd = rest.indexOf("\r\n\r\n", lineEnd);
      const trailerText = rest.subarray(lineEnd + 2, trailerEnd === -1 ? rest.byteLength : trailerEnd + 2).toString("latin1");
      response.trailers = headerBlock(trailerText);
      response.chunkedComplete = trailerEnd !== -1 || rest.subarray(lineEnd + 2, lineEnd + 4).toString() === "\r\n";
      break;
    }
    if (lineEnd + 2 + size > rest.byteLength) {
      chunks.push(rest.subarray(lineEnd + 2));
      break;
    }
    chunks.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  response.body = Buffer.concat(chunks);
  return response;
}
