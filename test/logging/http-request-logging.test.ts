/**
 * The line per plain HTTP request: method and path (never the query), status,
 * duration and the caller's address, once the response is over; nothing for
 * a request the handler leaves to Connect.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLogger, withHttpRequestLogging } from "../../services/shared/logging/index.js";

const chunks: string[] = [];
const log = createLogger({ service: "transfer", destination: { write: (s: string) => void chunks.push(s) }, env: {} });
const lines = () =>
  chunks
    .join("")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Routes of a pretend service: a download, a refusal, a failure, and everything else left to "Connect". */
async function routes(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (req.url?.startsWith("/export/")) {
    res.writeHead(200, { "content-type": "text/csv" });
    res.end("a,b\n1,2\n");
    return true;
  }
  if (req.url === "/jobs") {
    res.writeHead(401, { "content-type": "application/json" });
    res.end("{}");
    return true;
  }
  if (req.url === "/import") throw new Error("disk full");
  return false;
}

let server: Server;
let base: string;
beforeAll(async () => {
  const handler = withHttpRequestLogging(routes, log);
  server = createServer((req, res) => {
    void Promise.resolve(handler(req, res))
      .then(
        (answered) => {
          if (!answered) res.writeHead(404).end();
        },
        () => res.writeHead(500).end(),
      )
      // Registered after the handler has returned, so after its logging's own listener on the same event.
      .then(() => (res.closed ? responseClosed() : res.once("close", responseClosed)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  chunks.length = 0;
  closedResponses = 0;
});

/** Responses the server has seen close since the test began, and the one waiting for the next. */
let closedResponses = 0;
let nextClose: (() => void) | undefined;
function responseClosed(): void {
  closedResponses++;
  nextClose?.();
}

/**
 * The lines written once the server has seen `n` responses close. A line is
 * written when its response closes on the server, which may come after the
 * client has read it: waiting for that event (not for the line) means a line
 * that is never written fails the assertion at once.
 */
async function linesAfterResponses(n: number): Promise<Record<string, unknown>[]> {
  while (closedResponses < n) await new Promise<void>((resolve) => (nextClose = resolve));
  return lines();
}

describe("the plain HTTP request line", () => {
  it("names method, path, status, duration and the caller's address, and never the query string", async () => {
    const res = await fetch(`${base}/export/csv?entity=users&keys=ada@example.org`);
    await res.text();
    const linesNow = await linesAfterResponses(1);
    expect(linesNow).toHaveLength(1);
    const [line] = linesNow;
    expect(line).toMatchObject({ level: "info", msg: "http", service: "transfer", http: "GET /export/csv", status: 200 });
    expect(line!.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(typeof line!.duration_ms).toBe("number");
    expect(chunks.join("")).not.toContain("ada@example.org");
  });

  it("logs a refusal as rejected and a handler's failure as an error with status 500", async () => {
    await (await fetch(`${base}/jobs`, { headers: { authorization: "Bearer abcdefghijklmnop" } })).text();
    await (await fetch(`${base}/import`, { method: "POST", body: "email,password\nx@example.org,not-logged-pw\n" })).text();
    expect((await linesAfterResponses(2)).map((l) => [l.msg, l.http, l.status, l.level])).toEqual([
      ["http rejected", "GET /jobs", 401, "info"],
      ["http failed", "POST /import", 500, "error"],
    ]);
    expect(lines()[1]!.error).toBe("disk full");
    expect(chunks.join("")).not.toMatch(/abcdefghijklmnop|not-logged-pw/);
  });

  it("writes nothing for a request the handler leaves to the RPC routes", async () => {
    expect((await fetch(`${base}/dataexchange.transfer.v1.TransferService/ListFormats`, { method: "POST" })).status).toBe(404);
    await (await fetch(`${base}/export/json`)).text();
    // Both responses have closed: a line for the first would be there by now.
    expect((await linesAfterResponses(2)).map((l) => l.http)).toEqual(["GET /export/json"]);
  });
});
