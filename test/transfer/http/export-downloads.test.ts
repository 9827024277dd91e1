/**
 * `GET /export/{format}` as HTTP clients other than a browser call it: `HEAD`
 * (link checkers, download managers asking for the size and name first),
 * HTTP/1.0 (nginx's default towards backends: no chunked encoding, so no
 * trailers) and clients that go away mid-download. Whatever the request, the
 * records stream behind an export is closed when the answer ends: counted at
 * the records service (its open StreamRecords calls and its open cursors).
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Interceptor } from "@connectrpc/connect";
import { Entity } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { openCursorCount } from "../../../services/records/store/record-reader.js";
import { eventually, exportFile, seed, startServices, user, type Services } from "../rpc/harness.js";
import { rawRequest } from "./raw-http.js";

/** Enough that an export's records stream cannot be sent ahead into buffers and finish on its own (~2 MB of CSV). */
const USERS = 20_000;
let s: Services;
/** StreamRecords calls the records service is serving right now. */
let openStreams = 0;

/** Counts StreamRecords calls from their start until their response stream is finished or abandoned. */
const countStreams: Interceptor = (next) => async (req) => {
  if (req.method.name !== "StreamRecords") return next(req);
  openStreams++;
  let closed = false;
  const close = () => {
    if (!closed) {
      closed = true;
      openStreams--;
    }
  };
  req.signal.addEventListener("abort", close, { once: true });
  try {
    const res = await next(req);
    if (!res.stream) {
      close();
      return res;
    }
    return {
      ...res,
      message: (async function* () {
        try {
          yield* res.message;
        } finally {
          close();
        }
      })(),
    };
  } catch (error) {
    close();
    throw error;
  }
};

beforeAll(async () => {
  s = await startServices({ recordsInterceptors: [countStreams] });
  await seed(
    s.recordsClient,
    Entity.USERS,
    Array.from({ length: USERS }, (_, i) => user(i)),
  );
});
afterAll(async () => s?.close());

async function jobCount(): Promise<number> {
  return s.transferDb.db.collection("jobs").countDocuments({ kind: "export" });
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe("HEAD /export/{format}", () => {
  it("answers the download's headers without a body and without starting a job", async () => {
    const before = await jobCount();
    const res = await rawRequest(s.transfer.url, { method: "HEAD", target: "/export/csv?entity=users&fields=username,status" });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(res.headers["content-disposition"]).toMatch(/^attachment; filename="users-\d{8}-\d{6}\.csv"/);
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.headers["x-job-id"]).toBeUndefined();
    expect(res.headers.trailer).toBeUndefined();
    expect(res.body.byteLength).toBe(0);
    expect(await jobCount()).toBe(before);
    expect(openCursorCount()).toBe(0);
  });

  it("labels a download with the charset its bytes are written in, over HTTP and in the Export RPC's header alike", async () => {
    for (const [encoding, charset] of [
      ["utf-16le", "utf-16le"],
      ["latin1", "iso-8859-1"],
      ["windows-1252", "windows-1252"],
      ["utf-8", "utf-8"],
    ] as const) {
      const options = encodeURIComponent(JSON.stringify({ encoding }));
      const res = await rawRequest(s.transfer.url, { method: "HEAD", target: `/export/csv?entity=users&fields=username,status&options=${options}` });
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toBe(`text/csv; charset=${charset}`);
      const rpc = await exportFile(s.client, { entity: Entity.USERS, format: "csv", fields: ["username", "status"], formatOptions: { encoding } });
      expect(rpc.header.mimeType).toBe(`text/csv; charset=${charset}`);
    }
  });

  it("answers the status a GET would get for a bad request, still without a job", async () => {
    const before = await jobCount();
    const cases: [string, number][] = [
      ["/export/nope?entity=users", 404],
      ["/export/csv?entity=shoes", 400],
      ["/export/csv?entity=users&fields=username,shoeSize", 400],
      ["/export/csv?entity=users&from=yesterday", 400],
    ];
    for (const [target, status] of cases) {
      const res = await rawRequest(s.transfer.url, { method: "HEAD", target });
      expect([target, res.status, res.body.byteLength]).toEqual([target, status, 0]);
    }
    expect(await jobCount()).toBe(before);
  });
});

describe("GET /export/{format} over HTTP/1.0", () => {
  it("gets the whole file without chunks or trailers; the checksum is in the job record", async () => {
    const res = await rawRequest(s.transfer.url, { target: "/export/csv?entity=users&fields=username&limit=5000", version: "1.0" });
    expect(res.status).toBe(200);
    expect(res.headers["transfer-encoding"]).toBeUndefined();
    expect(res.headers.trailer).toBeUndefined();
    const lines = res.body.toString("utf8").trim().split("\r\n");
    expect(lines).toHaveLength(5000 + 1);
    expect(lines[0]).toBe("Username");
    const job = (await (await fetch(`${s.transfer.url}/jobs/${res.headers["x-job-id"]}`)).json()) as Record<string, unknown>;
    expect(job).toMatchObject({ state: "succeeded", counts: { exported: 5000 }, bytes: res.body.byteLength, sha256: sha256(res.body) });
  });

  it("still gets the checksum and record count as trailers over HTTP/1.1", async () => {
    const res = await rawRequest(s.transfer.url, { target: "/export/csv?entity=users&fields=username&limit=5000" });
    expect(res.status).toBe(200);
    expect(res.headers["transfer-encoding"]).toBe("chunked");
    expect(res.chunkedComplete).toBe(true);
    expect(res.trailers).toEqual({ "x-checksum-sha256": sha256(res.body), "x-record-count": "5000" });
  });
});

describe("every way out of an export closes its records stream", () => {
  it("leaves no StreamRecords call and no cursor open after 200 mixed HEAD, HTTP/1.0, complete and aborted downloads", async () => {
    // Complete downloads of ~65 KB (two StreamRecords messages, past one HTTP/2 flow-control window);
    // HEAD and the downloads cut off after 2 KB on all 20,000 users, which a records stream cannot send ahead at once.
    const kinds = [
      { method: "HEAD", version: "1.1", target: "/export/csv?entity=users" },
      { method: "GET", version: "1.0", target: "/export/csv?entity=users&limit=600" },
      { method: "GET", version: "1.1", target: "/export/csv?entity=users&limit=600" },
      { method: "GET", version: "1.1", target: "/export/csv?entity=users", abortAfterBytes: 2_000 },
      { method: "GET", version: "1.0", target: "/export/csv?entity=users", abortAfterBytes: 2_000 },
    ] as const;
    const statuses = new Map<string, number[]>();
    let next = 0;
    // Eight clients at a time, 200 requests in all.
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < 200) {
          const kind = kinds[next++ % kinds.length]!;
          // A generous idle limit: eight clients at once in format workers on two loaded cores can wait long for a slot.
          const res = await rawRequest(s.transfer.url, { ...kind, timeoutMs: 60_000 });
          const key = `${kind.method} ${kind.version}${"abortAfterBytes" in kind ? " aborted" : ""}`;
          statuses.set(key, [...(statuses.get(key) ?? []), res.status]);
        }
      }),
    );
    await eventually(() => openStreams === 0 && openCursorCount() === 0, 10_000).catch(() => {
      throw new Error(`still open after the requests: ${openStreams} StreamRecords call(s), ${openCursorCount()} cursor(s)`);
    });
    for (const [key, got] of statuses) expect([key, [...new Set(got)]]).toEqual([key, [key.endsWith("aborted") ? 0 : 200]]);
    // And the records service still serves exports.
    const after = await fetch(`${s.transfer.url}/export/ndjson?entity=users&fields=username&limit=5`);
    expect((await after.text()).trim().split("\n")).toHaveLength(5);
    // Every job ended: an abandoned download's end is written after its client is gone (in a format worker a little later).
    const running = () => s.transferDb.db.collection("jobs").countDocuments({ kind: "export", state: "running" });
    await eventually(async () => (await running()) === 0, 10_000).catch(async () => {
      throw new Error(`${await running()} export job(s) still running 10 s after their downloads ended`);
    });
  }, 180_000);
});
