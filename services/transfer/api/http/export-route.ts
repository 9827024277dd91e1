/**
 * `GET /export/{format}?entity=users&…`: a download for curl and browsers.
 * Its query parameters are read in export-query.ts.
 *
 * Errors before the first chunk of the file are JSON `{code, message}` with
 * their HTTP status; once the download started, a failure cuts the connection
 * (a truncated download is then visible as such to the client), and the
 * SHA-256 and record count come as trailers at the end — over HTTP/1.1; an
 * HTTP/1.0 body cannot carry trailers, so those clients find the checksum in
 * the job record. `HEAD` answers the headers a GET would get, checked the
 * same way, without starting a job.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { checkExport } from "../../access-policy.js";
import type { Caller } from "../../caller.js";
import { describeExport, exportEntityOf, exportJob, type ExportEvent } from "../../jobs/export-job.js";
import type { TransferContext } from "../../transfer-context.js";
import { exportRequestFromQuery, sourceParam } from "./export-query.js";
import { bundleRequestFromQuery } from "./export-bundle-query.js";
import { describeBundleExport, exportBundleJob } from "../../jobs/export-bundle-job.js";
import { allowed, attachment, clientGone, downloadContentType, sendError, writeChunk } from "./http-util.js";

/** The headers of a download, for GET and HEAD alike. */
function downloadHeaders(fileName: string, mimeType: string): Record<string, string> {
  return { "content-type": downloadContentType(mimeType), "content-disposition": attachment(fileName), "cache-control": "no-store" };
}

/**
 * Whether the response can carry trailers: only a chunked body can, and Node
 * sends chunks only to HTTP/1.1 clients (HTTP/1.0 bodies end with the
 * connection; nginx talks HTTP/1.0 to backends by default).
 */
function chunked(req: IncomingMessage): boolean {
  return req.httpVersionMajor > 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1);
}

export async function handleExport(ctx: TransferContext, req: IncomingMessage, formatSegment: string, query: URLSearchParams, res: ServerResponse, caller: Caller): Promise<void> {
  // Aborted when the route is done, whichever way: the job's records stream is closed before the job is asked to stop.
  const done = new AbortController();
  const gone = clientGone(res);
  let events: AsyncGenerator<ExportEvent> | undefined;
  try {
    const principal = caller.principal;
    // `bundle=users,courses`: several entities in one file (export-bundle-query.ts); the rest is the same download.
    const bundle = query.has("bundle");
    // Whether the caller may export anything of this source at all, before the parameters are judged.
    if (principal && !allowed(res, checkExport(principal, bundle ? "records" : sourceParam(query), undefined))) return;
    let describe: () => { fileName: string; mimeType: string };
    let start: (signal: AbortSignal) => AsyncGenerator<ExportEvent>;
    if (bundle) {
      const request = bundleRequestFromQuery(formatSegment, query);
      for (const part of request.parts) if (principal && !allowed(res, checkExport(principal, "records", part.entity.name))) return;
      describe = () => describeBundleExport(ctx, request, caller);
      start = (signal) => exportBundleJob(ctx, request, caller, signal);
    } else {
      const request = exportRequestFromQuery(formatSegment, query);
      if (principal && !allowed(res, checkExport(principal, request.target.source, exportEntityOf(request.target)?.name))) return;
      describe = () => describeExport(ctx, request, caller);
      start = (signal) => exportJob(ctx, request, caller, signal);
    }
    if (req.method === "HEAD") {
      // The headers a GET would get, checked the same way, without a job or a record read.
      const description = describe();
      res.writeHead(200, downloadHeaders(description.fileName, description.mimeType));
      res.end();
      return;
    }
    events = start(AbortSignal.any([gone, done.signal]));
    const first = await events.next();
    if (first.done || first.value.kind !== "header") throw new Error("the export produced no header");
    const header = first.value;
    // Wait for the first bytes (at most one chunk) before answering 200, so
    // that what fails at the start (a sort field the records service refuses,
    // the records service being down) is still a JSON error with its status.
    const early: ExportEvent[] = [];
    let ended = false;
    for (;;) {
      const next = await events.next();
      if (next.done) {
        ended = true;
        break;
      }
      early.push(next.value);
      if (next.value.kind === "chunk" || next.value.kind === "summary") break;
    }
    const trailers = chunked(req);
    res.writeHead(200, {
      ...downloadHeaders(header.fileName, header.mimeType),
      "x-job-id": header.jobId,
      // Records and deletions: the changed_since of the next incremental export.
      ...(header.highWaterMark ? { "x-high-water-mark": header.highWaterMark.toISOString() } : {}),
      // HTTP/1.0 gets the file without them; the checksum is in the job record (GET /jobs/{x-job-id}).
      ...(trailers ? { trailer: "x-checksum-sha256, x-record-count" } : {}),
    });
    const rest = (async function* () {
      yield* early;
      if (!ended) yield* events!;
    })();
    for await (const event of rest) {
      if (event.kind === "chunk") {
        if (!(await writeChunk(res, event.bytes))) break;
      } else if (event.kind === "summary" && trailers) {
        res.addTrailers({ "x-checksum-sha256": event.sha256, "x-record-count": String(event.records) });
      }
    }
    if (!res.destroyed) res.end();
  } catch (error) {
    if (!gone.aborted) sendError(res, error);
  } finally {
    done.abort(new Error("the download ended"));
    // Stops the job (recorded as cancelled) when it did not finish: the client went away, or the answer failed.
    await events?.return(undefined);
  }
}
