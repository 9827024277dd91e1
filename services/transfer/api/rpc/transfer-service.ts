/**
 * The transfer service: the generated TransferService type implemented over
 * the shared TransferContext (plugins, records client, job store, registry of
 * running jobs). Its dependencies are passed in, so the class is tested
 * directly, through a router transport, and behind a real server alike.
 *
 * The auth interceptor has checked the caller's role for the method before a
 * handler runs (access-policy.ts); the handlers add what the request alone
 * cannot decide: that importers and exporters see only their own jobs.
 * Handlers throw domain errors; the server's error-mapping interceptor
 * (error-mapping.ts) turns each into its RPC status.
 */
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  ColumnSchema,
  ExportBundleResponseSchema,
  ExportResponseSchema,
  FailedRowsView,
  ImportResponseSchema,
  type CancelJobRequest,
  type DescribeEntityRequest,
  type ExportBundleRequest,
  type ExportRequest,
  type ExportResponse,
  type GetFailedRowsRequest,
  type GetJobRequest,
  type ImportBundleRequest,
  type ImportRequest,
  type ImportResponse,
  type ListAuditEventsRequest,
  type ListJobsRequest,
  type TransferService as TransferServiceDesc,
  type WatchJobRequest,
  type PreviewImportRequest,
  type RevertImportRequest,
} from "../../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { entityEnum, wireFieldType } from "../../../shared/records-wire/record-codec.js";
import { InvalidTransferRequestError } from "../../errors.js";
import { exportJob, type ExportEvent } from "../../jobs/export-job.js";
import { exportBundleJob } from "../../jobs/export-bundle-job.js";
import { failedRowsFile } from "../../jobs/failed-rows-file.js";
import { importJob, type ImportJobEvent } from "../../jobs/import-job.js";
import { importBundleJob } from "../../jobs/import-bundle-job.js";
import { importBundleMessage, importBundleRequestOf } from "./import-bundle-codec.js";
import { revertImport } from "../../jobs/revert-job.js";
import { JOB_STATES, jobMessage, rowErrorMessage, watchMessage } from "./job-codec.js";
import { listFormats } from "./list-formats.js";
import { exportBundleRequestOf, exportRequestOf, importRequestOf, jobQueryOf } from "./request-codec.js";
import { auditEventMessage, auditQueryOf, withoutPersonalData } from "../../../shared/audit/index.js";
import { checkJobAccess, listedJobsSubject, seesPersonalData } from "../../access-policy.js";
import { callerOf, type Caller } from "../../caller.js";
import { recordsFor } from "../../records/records-for-caller.js";
import type { RowError } from "../../../domain/index.js";
import type { JobDocument } from "../../jobs/job-types.js";
import { jobForReader, rowErrorForReader } from "../../jobs/job-views.js";
import { watchJob } from "../../jobs/job-watch.js";
import { previewImport } from "../../preview/preview-import.js";
import { previewMessage } from "./preview-codec.js";
import { requireEntity, type TransferContext } from "../../transfer-context.js";

export class TransferService implements ServiceImpl<typeof TransferServiceDesc> {
  constructor(private readonly ctx: TransferContext) {}

  listFormats() {
    return listFormats(this.ctx.plugins);
  }

  async describeEntity(request: DescribeEntityRequest, context: HandlerContext) {
    requireEntity(request.entity, "entity");
    const description = await recordsFor(this.ctx.records, callerOf(context)).describeEntity({ entity: request.entity }, { signal: context.signal });
    return { description };
  }

  async *export(request: ExportRequest, context: HandlerContext) {
    const caller = callerOf(context);
    for await (const event of exportJob(this.ctx, exportRequestOf(request), caller, context.signal)) yield exportMessage(event);
  }

  async *exportBundle(request: ExportBundleRequest, context: HandlerContext) {
    const caller = callerOf(context);
    for await (const event of exportBundleJob(this.ctx, exportBundleRequestOf(request), caller, context.signal)) yield create(ExportBundleResponseSchema, { event: exportMessage(event).event });
  }

  async *import(requests: AsyncIterable<ImportRequest>, context: HandlerContext) {
    const caller = callerOf(context);
    const iterator = requests[Symbol.asyncIterator]();
    const first = await iterator.next();
    if (first.done || first.value.message.case !== "header") {
      throw new InvalidTransferRequestError("the first message of an import must be its header", "header");
    }
    const request = importRequestOf(first.value.message.value);
    const chunks = (async function* () {
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        const message = next.value.message;
        if (message.case === "header") throw new InvalidTransferRequestError("only the first message of an import may be a header", "header");
        if (message.case === "chunk" && message.value.byteLength > 0) yield message.value;
      }
    })();
    for await (const event of importJob(this.ctx, request, chunks, caller, context.signal)) yield importMessage(event);
  }

  /** A bundle (a workbook, a ZIP of files) as one import job, part by part in dependency order (jobs/import-bundle-job.ts). */
  async *importBundle(requests: AsyncIterable<ImportBundleRequest>, context: HandlerContext) {
    const caller = callerOf(context);
    const iterator = requests[Symbol.asyncIterator]();
    const first = await iterator.next();
    if (first.done || first.value.message.case !== "header") {
      throw new InvalidTransferRequestError("the first message of a bundle import must be its header", "header");
    }
    const request = importBundleRequestOf(first.value.message.value);
    const chunks = (async function* () {
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        const message = next.value.message;
        if (message.case === "header") throw new InvalidTransferRequestError("only the first message of a bundle import may be a header", "header");
        if (message.case === "chunk" && message.value.byteLength > 0) yield message.value;
      }
    })();
    for await (const event of importBundleJob(this.ctx, request, chunks, caller, context.signal)) yield importBundleMessage(event);
  }

  /** What importing a file would do to its first rows, without a job and without writing (preview/preview-import.ts). */
  async previewImport(request: PreviewImportRequest, context?: HandlerContext) {
    if (!request.header) throw new InvalidTransferRequestError("header is required: the header you would send to Import", "header");
    const job = importRequestOf(request.header);
    const caller: Caller = callerOf(context!);
    const result = await previewImport(
      this.ctx,
      caller,
      {
        entity: job.entity,
        format: job.format,
        formatOptions: job.formatOptions,
        mode: job.mode,
        mapping: job.mapping,
        fileName: job.fileName,
        head: request.head,
        complete: request.complete,
        rows: request.rows,
      },
      personalFor(context),
    );
    return previewMessage(result);
  }

  async getJob(request: GetJobRequest, context?: HandlerContext) {
    return { job: jobMessage(jobForReader(await this.jobFor(request.jobId, context, "read"), personalFor(context))) };
  }

  /** A job's changes from the job store until it ends (jobs/job-watch.ts), as the caller may read them. */
  async *watchJob(request: WatchJobRequest, context?: HandlerContext) {
    const job = await this.jobFor(request.jobId, context, "read");
    const personal = personalFor(context);
    const view = { job: (j: JobDocument) => jobForReader(j, personal), rowError: (e: RowError, entity: string | undefined) => rowErrorForReader(e, entity, personal) };
    for await (const event of watchJob(this.ctx.jobs, job, { pollMs: this.ctx.config.jobs.watchPollMs, signal: context?.signal, view })) yield watchMessage(event);
  }

  async listJobs(request: ListJobsRequest, context?: HandlerContext) {
    const query = jobQueryOf(request);
    const principal = context ? callerOf(context).principal : undefined;
    if (principal) {
      const listed = listedJobsSubject(principal, query.subject);
      if (listed.denied) throw new ConnectError(`permission denied: ${listed.denied}`, Code.PermissionDenied);
      if (listed.subject) query.subject = listed.subject;
    }
    const page = await this.ctx.jobs.list(query, request.pageSize, request.pageToken);
    const personal = personalFor(context);
    return { jobs: page.jobs.map((job) => jobMessage(jobForReader(job, personal))), nextPageToken: page.nextPageToken };
  }

  async cancelJob(request: CancelJobRequest, context?: HandlerContext) {
    const job = await this.jobFor(request.jobId, context, "cancel");
    const reader = personalFor(context);
    if (job.state !== "running") return { job: jobMessage(jobForReader(job, reader)) };
    // Whichever instance runs it: here directly, elsewhere through a cancel request in the database.
    const subject = context ? callerOf(context).subject : job.subject;
    return { job: jobMessage(jobForReader(await this.ctx.registry.requestCancel(job._id, subject), reader)) };
  }

  /** Undoes an import as a revert job (jobs/revert-job.ts), and answers with that job once it has ended. */
  async revertImport(request: RevertImportRequest, context: HandlerContext) {
    const job = await revertImport(this.ctx, request.jobId, callerOf(context), context.signal);
    return { job: jobMessage(jobForReader(job, personalFor(context))) };
  }

  async *getFailedRows(request: GetFailedRowsRequest, context?: HandlerContext) {
    const job = await this.jobFor(request.jobId, context, "read");
    const file = await failedRowsFile(this.ctx, job, request.view === FailedRowsView.ERRORS ? "errors" : "rows", personalFor(context), request.part || undefined);
    let first = true;
    for await (const chunk of file.chunks) {
      yield first ? { chunk, mimeType: file.mimeType, fileName: file.fileName } : { chunk };
      first = false;
    }
    if (first) yield { chunk: new Uint8Array(0), mimeType: file.mimeType, fileName: file.fileName };
  }

  /** This service's audit trail, newest first; personal keys withheld from callers without `pii`. */
  async listAuditEvents(request: ListAuditEventsRequest, context?: HandlerContext) {
    const personal = personalFor(context);
    const page = await this.ctx.audit.list(auditQueryOf(request.filter), request.pageSize, request.pageToken);
    const events = page.events.map((e) => auditEventMessage(personal ? e : withoutPersonalData(e)));
    return { events, nextPageToken: page.nextPageToken };
  }

  /** A job, if the caller may act on it (their own, or anyone's with auditor/admin rights). */
  private async jobFor(jobId: string, context: HandlerContext | undefined, action: "read" | "cancel"): Promise<JobDocument> {
    const job = await this.ctx.jobs.get(jobId);
    const caller: Caller | undefined = context ? callerOf(context) : undefined;
    const denied = caller?.principal ? checkJobAccess(caller.principal, job._id, job.subject, action) : undefined;
    if (denied) throw new ConnectError(`permission denied: ${denied}`, Code.PermissionDenied);
    return job;
  }
}

/** Whether the caller may see personal data the service holds (jobs' row errors and filters, the audit trail's keys). */
function personalFor(context: HandlerContext | undefined): boolean {
  return seesPersonalData(context ? callerOf(context).principal : undefined);
}

export function exportMessage(event: ExportEvent): ExportResponse {
  switch (event.kind) {
    case "header":
      return create(ExportResponseSchema, {
        event: {
          case: "header",
          value: {
            jobId: event.jobId,
            fileName: event.fileName,
            mimeType: event.mimeType,
            columns: event.columns.map((c) => create(ColumnSchema, { key: c.key, label: c.label, type: wireFieldType(c.type) })),
            highWaterMark: event.highWaterMark ? timestampFromDate(event.highWaterMark) : undefined,
            parts: (event.parts ?? []).map((p) => ({
              entity: entityEnum(p.entity),
              name: p.name,
              columns: p.columns.map((c) => create(ColumnSchema, { key: c.key, label: c.label, type: wireFieldType(c.type) })),
            })),
          },
        },
      });
    case "chunk":
      return create(ExportResponseSchema, { event: { case: "chunk", value: event.bytes } });
    case "progress":
      return create(ExportResponseSchema, { event: { case: "progress", value: { records: BigInt(event.records), bytes: BigInt(event.bytes), estimatedTotal: BigInt(event.estimatedTotal) } } });
    case "summary":
      return create(ExportResponseSchema, {
        event: {
          case: "summary",
          value: {
            jobId: event.jobId,
            records: BigInt(event.records),
            bytes: BigInt(event.bytes),
            sha256: event.sha256,
            duration: durationFromMs(event.durationMs),
            highWaterMark: event.highWaterMark ? timestampFromDate(event.highWaterMark) : undefined,
            parts: (event.parts ?? []).map((p) => ({ entity: entityEnum(p.entity), name: p.name, records: BigInt(p.records) })),
          },
        },
      });
  }
}

export function importMessage(event: ImportJobEvent): ImportResponse {
  switch (event.kind) {
    case "started":
      return create(ImportResponseSchema, { event: { case: "started", value: { jobId: event.jobId } } });
    case "progress":
      return create(ImportResponseSchema, { event: { case: "progress", value: { rowsRead: BigInt(event.rowsRead), bytesRead: BigInt(event.bytesRead), phase: event.phase } } });
    case "row_error":
      return create(ImportResponseSchema, { event: { case: "rowError", value: rowErrorMessage(event) } });
    case "summary":
      return create(ImportResponseSchema, {
        event: {
          case: "summary",
          value: {
            jobId: event.jobId,
            read: BigInt(event.read),
            inserted: BigInt(event.inserted),
            updated: BigInt(event.updated),
            unchanged: BigInt(event.unchanged),
            skipped: BigInt(event.skipped),
            failed: BigInt(event.failed),
            sha256: event.sha256,
            bytes: BigInt(event.bytes),
            strictAborted: event.strictAborted,
            dryRun: event.dryRun,
            state: JOB_STATES[event.state],
            duration: durationFromMs(event.durationMs),
            encoding: event.encoding?.name ?? "",
            encodingSource: event.encoding?.source ?? "",
            encodingConfidence: event.encoding?.confidence ?? 0,
            format: event.format,
            formatChosenBy: event.formatChosenBy ?? "",
          },
        },
      });
  }
}
