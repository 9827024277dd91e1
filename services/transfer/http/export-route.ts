/**
 * `GET /export/{format}?entity=users&…`: a download for curl and browsers.
 *
 * Query parameters: `entity` (required), `fields=a,b` (selection and order),
 * filters `status`, `role`, `user_id`, `course_id`, `session_id`, `action`
 * (comma lists), `from` / `to` (ISO 8601, on `time_field`, default the
 * entity's first time field), `sort=field,-field`, `limit`, and optionally
 * `options` / `labels` as JSON objects. `/export/pretty` is JSON with
 * `pretty: true`.
 *
 * `?source=audit` exports the audit trail instead (auditors and admins):
 * filters `subject`, `action` (export, import), `entity`, `from`, `to`;
 * `fields`, `labels`, `options` and `limit` as for records.
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
import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { FilterSchema, SortFieldSchema } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { ExportRequestSchema, ExportSource, type ExportRequest } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { AuditAction, AuditEventFilterSchema } from "../../../gen/dataexchange/audit/v1/audit_pb.js";
import { AUDIT_ACTIONS } from "../../shared/audit/index.js";
import { checkExport } from "../access-policy.js";
import type { Caller } from "../caller.js";
import { entityEnum } from "../../shared/records-wire/record-codec.js";
import { InvalidTransferRequestError } from "../errors.js";
import { describeExport, exportJob, type ExportEvent } from "../jobs/export-job.js";
import { requireEntityName, type TransferContext } from "../transfer-context.js";
import { allowed, attachment, clientGone, sendError, writeChunk } from "./http-util.js";

/** Formats that are another format with preset options. */
const ALIASES: Record<string, { format: string; options: JsonObject }> = {
  pretty: { format: "json", options: { pretty: true } },
};

function list(query: URLSearchParams, name: string): string[] {
  return query
    .getAll(name)
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter(Boolean);
}

export function jsonObjectParam(value: string | null, name: string): JsonObject {
  if (value === null || value.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new InvalidTransferRequestError(`${name} must be a JSON object: ${(error as Error).message}`, name);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new InvalidTransferRequestError(`${name} must be a JSON object`, name);
  return parsed as JsonObject;
}

function dateParam(query: URLSearchParams, name: string): Date | undefined {
  const value = query.get(name);
  if (!value) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new InvalidTransferRequestError(`${name} must be an ISO 8601 date or timestamp, not ${JSON.stringify(value)}`, name);
  return date;
}

function sourceParam(query: URLSearchParams): "records" | "audit" {
  const source = (query.get("source") ?? "records").trim().toLowerCase() || "records";
  if (source !== "records" && source !== "audit") throw new InvalidTransferRequestError(`source must be records or audit, not ${JSON.stringify(query.get("source"))}`, "source");
  return source;
}

function limitParam(query: URLSearchParams): bigint {
  const limitText = query.get("limit");
  if (limitText !== null && !/^\d+$/.test(limitText)) throw new InvalidTransferRequestError(`limit must be a whole number, not ${JSON.stringify(limitText)}`, "limit");
  return limitText ? BigInt(limitText) : 0n;
}

function labelsParam(query: URLSearchParams): Record<string, string> {
  const labels = jsonObjectParam(query.get("labels"), "labels");
  for (const [k, v] of Object.entries(labels)) if (typeof v !== "string") throw new InvalidTransferRequestError(`labels.${k} must be text`, "labels");
  return labels as Record<string, string>;
}

/** `?source=audit`: the audit trail, filtered by subject, action, entity, from, to. */
function auditExportRequest(formatSegment: string, query: URLSearchParams): ExportRequest {
  const alias = ALIASES[formatSegment.toLowerCase()];
  const action = query.get("action")?.trim().toLowerCase();
  if (action && !(AUDIT_ACTIONS as readonly string[]).includes(action)) throw new InvalidTransferRequestError(`action must be one of ${AUDIT_ACTIONS.join(", ")}`, "action");
  const from = dateParam(query, "from");
  const to = dateParam(query, "to");
  const entity = query.get("entity");
  return create(ExportRequestSchema, {
    source: ExportSource.AUDIT_EVENTS,
    format: alias?.format ?? formatSegment,
    formatOptions: { ...(alias?.options ?? {}), ...jsonObjectParam(query.get("options"), "options") },
    fields: list(query, "fields"),
    labels: labelsParam(query),
    limit: limitParam(query),
    auditFilter: create(AuditEventFilterSchema, {
      subject: query.get("subject") ?? "",
      action: action ? AuditAction[action.toUpperCase() as keyof typeof AuditAction] : AuditAction.UNSPECIFIED,
      entity: entity ? requireEntityName(entity).name : "",
      from: from ? timestampFromDate(from) : undefined,
      to: to ? timestampFromDate(to) : undefined,
    }),
  });
}

/** The export request a download URL describes. */
export function exportRequestFromQuery(formatSegment: string, query: URLSearchParams): ExportRequest {
  if (sourceParam(query) === "audit") return auditExportRequest(formatSegment, query);
  const alias = ALIASES[formatSegment.toLowerCase()];
  const spec = requireEntityName(query.get("entity"));
  const options = { ...(alias?.options ?? {}), ...jsonObjectParam(query.get("options"), "options") };
  const from = dateParam(query, "from");
  const to = dateParam(query, "to");
  const timeField = query.get("time_field") ?? spec.timeFields[0];
  if ((from || to) && (!timeField || !spec.timeFields.includes(timeField))) {
    throw new InvalidTransferRequestError(`time_field must be one of ${spec.timeFields.join(", ") || "(none: " + spec.name + " has no time fields)"}`, "time_field");
  }
  const limit = limitParam(query);
  const labels = labelsParam(query);
  return create(ExportRequestSchema, {
    entity: entityEnum(spec.name),
    format: alias?.format ?? formatSegment,
    formatOptions: options,
    fields: list(query, "fields"),
    labels,
    filter: create(FilterSchema, {
      statuses: list(query, "status"),
      roles: list(query, "role"),
      userIds: list(query, "user_id"),
      courseIds: list(query, "course_id"),
      sessionIds: list(query, "session_id"),
      actions: list(query, "action"),
      timeRanges: from || to ? [{ field: timeField, from: from ? timestampFromDate(from) : undefined, to: to ? timestampFromDate(to) : undefined }] : [],
    }),
    sort: list(query, "sort").map((s) => create(SortFieldSchema, { field: s.replace(/^[-+]/, ""), descending: s.startsWith("-") })),
    limit,
  });
}

/** The headers of a download, for GET and HEAD alike. */
function downloadHeaders(fileName: string, mimeType: string): Record<string, string> {
  const textual = /^text\/|json|csv|xml/.test(mimeType) && !mimeType.includes("charset");
  return { "content-type": textual ? `${mimeType}; charset=utf-8` : mimeType, "content-disposition": attachment(fileName), "cache-control": "no-store" };
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
    // Whether the caller may export anything of this source at all, before the parameters are judged.
    if (principal && !allowed(res, checkExport(principal, sourceParam(query), undefined))) return;
    const request = exportRequestFromQuery(formatSegment, query);
    if (principal && !allowed(res, checkExport(principal, sourceParam(query), request.source === ExportSource.AUDIT_EVENTS ? undefined : requireEntityName(query.get("entity")).name))) return;
    if (req.method === "HEAD") {
      // The headers a GET would get, checked the same way, without a job or a record read.
      const description = describeExport(ctx, request, caller);
      res.writeHead(200, downloadHeaders(description.fileName, description.mimeType));
      res.end();
      return;
    }
    events = exportJob(ctx, request, caller, AbortSignal.any([gone, done.signal]));
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
