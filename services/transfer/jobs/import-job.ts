/**
 * One import as a job: the file's bytes (an RPC's chunks or a multipart
 * upload, never buffered whole) go through the core's import pipeline; valid
 * rows go to the records service over one WriteRecords stream; every rejected
 * row is reported as it is found and kept in job_row_errors. The RPC and the
 * HTTP route both consume these events.
 *
 * An import the core had to stop before the end of the file (the file size
 * limit, a file that cannot be read further, columns that fit no field) ends
 * `failed` with that reason: the summary (what was written before the stop)
 * is still handed out, then the job's error is thrown (RESOURCE_EXHAUSTED /
 * HTTP 413 for the size limit, INVALID_ARGUMENT for the others). Rows over
 * the row-size or column-count limit are rejected one by one (code `limit`)
 * and the import goes on, like any other bad row.
 *
 * Records are written for the caller (the records service applies the
 * caller's rights, intersected with the transfer service's), and every
 * import, dry runs included, ends with an audit event.
 */
import type { JsonObject } from "@bufbuild/protobuf";
import { emptyRowCounts, type EntitySpec, type RowCounts, type RowError, type WriteMode } from "../../domain/index.js";
import { runImport, type FieldMapping, type ImportSettings } from "../core/import-pipeline.js";
import type { SummaryEvent } from "../core/import-events.js";
import { createStagingArea } from "../core/staging-area.js";
import { importLimits } from "../config/transfer-config.js";
import { codeName, toConnectError } from "../error-mapping.js";
import { ImportBudgetExceededError, InvalidTransferRequestError, LimitExceededError } from "../errors.js";
import { FailedRowStore } from "./failed-row-store.js";
import { RecordsStreamWriter } from "../records/records-writer.js";
import { describeSettlement, settledCountKey, settleUnansweredRows } from "./unanswered-writes.js";
import type { Caller } from "../caller.js";
import { recordsFor } from "../records/records-for-caller.js";
import { requireFormat, type TransferContext } from "../transfer-context.js";
import { checkNamedFormat, chooseFormat, DETECTION_PEEK, enoughToChoose, firstCharacterKnown, namedFormatNeedsHead, peekHead, type FormatChoice } from "../core/format-detection.js";
import type { ImportBudget } from "../core/import-budget.js";
import type { JobRun, EndOptions } from "./running-job.js";
import { runJob, type JobSteps } from "./run-job.js";
import type { FormatPlugin } from "../../../formats/_sdk/index.js";
import type { JobCounts } from "./job-types.js";

export interface ImportJobRequest {
  entity: EntitySpec;
  format: string;
  formatOptions: JsonObject;
  mode: WriteMode;
  /** Undefined takes the configured default. */
  strict?: boolean;
  dryRun: boolean;
  mapping?: FieldMapping[];
  fileName?: string;
  /** The file's size in bytes when it is known before it is read (an upload spooled by POST /import): the job's progress against it. */
  fileSize?: number;
  /** The client's name for its request (POST /import's `X-Request-Id`), kept on the job. */
  requestId?: string;
  /** Error budget and change guard (core/import-budget.ts). */
  budget?: ImportBudget;
}

/** What an import ended with: the pipeline's summary (less its internal stop detail) and the job's outcome. */
export type ImportJobSummary = Omit<SummaryEvent, "kind" | "stopped" | "header"> & {
  jobId: string;
  /** The format the file was read as. */
  format: string;
  /** How it was chosen when the request named none (see format-detection.ts). */
  formatChosenBy?: string;
  state: "succeeded" | "failed";
  durationMs: number;
  /** Why a failed (strict-aborted) import wrote nothing. */
  error?: string;
};

export type ImportJobEvent =
  | { kind: "started"; jobId: string }
  | { kind: "progress"; rowsRead: number; bytesRead: number; phase: string }
  | ({ kind: "row_error" } & RowError)
  | ({ kind: "summary" } & ImportJobSummary);

/**
 * Runs an import job over `input`; throws (mapped) when the job fails or is
 * cancelled. Traced as one span (`transfer.import`) under the caller's RPC
 * span: the plugin's read span and the records calls are its children. Every
 * log line of the job carries its `job_id` (run-job.ts).
 */
export function importJob(ctx: TransferContext, request: ImportJobRequest, upload: AsyncIterable<Uint8Array>, caller: Caller, callerSignal?: AbortSignal): AsyncGenerator<ImportJobEvent> {
  return runJob(ctx, caller, callerSignal, { span: "transfer.import", attributes: { "dx.format": request.format, "dx.subject": caller.subject } }, async () => {
    // The first bytes choose the format when the request names none (core/format-detection.ts).
    const plugins = ctx.plugins.plugins;
    let input = upload;
    let choice: FormatChoice | undefined;
    let plugin: FormatPlugin;
    if (request.format.trim()) {
      plugin = requireFormat(ctx, request.format, "read");
      if (namedFormatNeedsHead(request.fileName, plugin, plugins)) {
        const peeked = await peekHead(upload, DETECTION_PEEK, firstCharacterKnown);
        input = peeked.input;
        checkNamedFormat(peeked.head, request.fileName, plugin, plugins);
      }
    } else {
      const peeked = await peekHead(upload, DETECTION_PEEK, enoughToChoose);
      input = peeked.input;
      choice = chooseFormat(peeked.head, request.fileName, plugins);
      plugin = requireFormat(ctx, choice.format, "read");
    }
    const strict = request.strict ?? ctx.config.strictImportByDefault;
    return {
      record: {
        kind: "import",
        subject: caller.subject,
        entity: request.entity.name,
        format: plugin.name,
        formatChosenBy: choice?.chosenBy,
        formatOptions: JSON.stringify(request.formatOptions),
        mode: request.mode,
        strict,
        dryRun: request.dryRun,
        fileName: request.fileName || undefined,
        fileSize: request.fileSize,
        requestId: request.requestId,
        ...(request.budget && Object.keys(request.budget).length > 0 ? { budget: request.budget } : {}),
      },
      start: (run) => importSteps(ctx, run, { request, plugin, strict, input, caller, choice }),
    };
  });
}

/** The import's steps once its record exists: the pipeline's events written to the job, the records stream, staging and rejected rows. */
function importSteps(
  ctx: TransferContext,
  run: JobRun,
  { request, plugin, strict, input, caller, choice }: { request: ImportJobRequest; plugin: FormatPlugin; strict: boolean; input: AsyncIterable<Uint8Array>; caller: Caller; choice?: FormatChoice },
): JobSteps<ImportJobEvent> {
  const job = run.job;
  const sink = run.errors!;
  const signal = run.signal;
  // The rejected rows themselves, for GetFailedRows' rows view (capped like the row errors).
  const failedRows = new FailedRowStore(ctx.db, ctx.jobs.maxStoredRowErrors).sink(job._id);
  let fileHeader: Pick<SummaryEvent, "header" | "encoding"> = {};
  const records = recordsFor(ctx.records, caller, job._id);
  const writer = new RecordsStreamWriter(records, request.entity, signal);
  const staging = createStagingArea(ctx.db, job._id);
  let bytesRead = 0;
  /** The counts of the import's events so far (each only grows). */
  const counts: RowCounts = emptyRowCounts();
  // The record reads the counts at each write: the events' and what the records service has answered
  // (ahead of the events, which wait for the next batch), so a stalled or killed import's record holds the rows written.
  run.follow(() => ({ counts: ahead(counts, writer.written), bytes: bytesRead, errorCount: sink.count }));
  let closed = false;
  /** Closes the records stream, the staging area and the rejected rows (before the job's end is written). */
  const close = async () => {
    if (closed) return;
    closed = true;
    await writer.close();
    await staging.drop().catch(() => undefined);
    await failedRows
      .finish({ names: fileHeader.header?.names, detected: fileHeader.header?.detected, encoding: fileHeader.encoding })
      .catch((error: unknown) => ctx.log("failed to keep the rejected rows of import job", job._id, error));
  };
  /**
   * How an import that did not finish is recorded: what it wrote — the counts the records service
   * answered, plus those of batches it never answered that are found stored once it is back
   * (unanswered-writes.ts: checked before the counts are recorded, so the job reports exactly the
   * rows written) — and the rows rejected so far.
   */
  const sofar = (): EndOptions => {
    let unanswered = writer.unansweredRecords();
    return {
      base: { counts: { read: counts.read, ...writer.written, failed: sink.count }, bytes: bytesRead, revertibleUntil: writer.revertibleUntil },
      settle: async (ending) => {
        if (unanswered.length === 0) return ending;
        const settlement = await settleUnansweredRows(records, request.entity, unanswered);
        const key = settledCountKey(request.mode);
        unanswered = [];
        return {
          ...ending,
          counts: { ...ending.counts, [key]: (ending.counts?.[key] ?? 0) + settlement.written },
          error: [ending.error, describeSettlement(settlement, request.mode)].filter(Boolean).join("; "),
        };
      },
    };
  };
  async function* events(): AsyncGenerator<ImportJobEvent> {
    yield { kind: "started", jobId: job._id };
    const limits = importLimits(ctx.config);
    const settings: ImportSettings = {
      entity: request.entity,
      plugin,
      pluginOptions: request.formatOptions,
      mode: request.mode,
      strict,
      dryRun: request.dryRun,
      mapping: request.mapping,
      limits,
      batchSize: ctx.config.importBatchSize,
      writesInFlight: ctx.config.importWritesInFlight,
      budget: request.budget,
      signal,
    };
    let stopError: Error | undefined;
    for await (const event of runImport(input, settings, writer, staging)) {
      if (event.kind === "progress") {
        bytesRead = event.bytesRead;
        Object.assign(counts, ahead(counts, event.counts));
        run.progress();
        yield { kind: "progress", rowsRead: event.rowsRead, bytesRead: event.bytesRead, phase: event.phase };
      } else if (event.kind === "row_error") {
        const error: RowError = { row: event.row, reason: event.reason, code: event.code };
        if (event.line !== undefined) error.line = event.line;
        if (event.column !== undefined) error.column = event.column;
        if (event.value !== undefined) error.value = event.value;
        if (event.personal !== undefined) error.personal = event.personal;
        await sink.add(error);
        yield { kind: "row_error", ...error };
      } else if (event.kind === "failed_row") {
        await failedRows.add(event);
      } else if (event.kind === "summary") {
        fileHeader = { header: event.header, encoding: event.encoding };
        counts.read = event.read;
        bytesRead = event.bytes;
        if (event.stopped) {
          stopError =
            event.stopped.code === "limit"
              ? new LimitExceededError("file size", Math.round((limits.maxFileBytes / (1024 * 1024)) * 1000) / 1000, "MiB")
              : event.stopped.code === "budget"
                ? new ImportBudgetExceededError(`${stopPlace(event.stopped)}: ${event.stopped.reason}; the rows written before it stay written (see the counts)`)
                : new InvalidTransferRequestError(`${stopPlace(event.stopped)}: ${event.stopped.reason}`, event.stopped.setting ?? "file");
        }
        const state = event.strictAborted || stopError ? "failed" : "succeeded";
        const mappedStop = stopError ? toConnectError(stopError) : undefined;
        const error = mappedStop ? mappedStop.rawMessage : event.strictAborted ? `strict import: ${event.failed} row(s) were rejected, so nothing was written` : undefined;
        await close();
        // The record holds the end before the client is told it.
        await run.end(
          {
            state,
            counts: { read: event.read, inserted: event.inserted, updated: event.updated, unchanged: event.unchanged, skipped: event.skipped, failed: event.failed },
            sha256: event.sha256,
            error,
            errorCode: mappedStop ? codeName(mappedStop.code) : error ? "failed_precondition" : undefined,
            strictAborted: event.strictAborted,
            revertibleUntil: writer.revertibleUntil,
          },
          { base: { bytes: bytesRead } },
        );
        const { kind: _kind, stopped: _stopped, header: _header, ...totals } = event;
        yield { kind: "summary", ...totals, jobId: job._id, format: plugin.name, formatChosenBy: choice?.chosenBy, state, durationMs: Date.now() - job.createdAt.getTime(), error };
        if (mappedStop) throw mappedStop;
      }
    }
  }
  return { events: events(), sofar, close };
}

/** Each count at the larger of the two: the events' and the records service's answers, which run ahead. */
function ahead(counts: RowCounts, answered: Partial<Record<keyof JobCounts, number>>): RowCounts {
  const next = { ...counts };
  for (const [key, value] of Object.entries(answered) as [keyof RowCounts, number][]) if (key in next) next[key] = Math.max(next[key], value);
  return next;
}

/** Where an import stopped, in words: "the import stopped at row 12 (line 40)", "… at the header (line 1)", "… at line 3, byte 16". */
export function stopPlace(stopped: NonNullable<SummaryEvent["stopped"]>): string {
  if (stopped.at === "header") return `the import was refused before anything was written${stopped.line !== undefined ? ` (header at line ${stopped.line})` : ""}`;
  const line = stopped.line !== undefined ? `line ${stopped.line}` : undefined;
  const byte = stopped.offset !== undefined ? `byte ${stopped.offset}` : undefined;
  if (stopped.row !== undefined) return `the import stopped at row ${stopped.row}${line ? ` (${[line, byte].filter(Boolean).join(", ")})` : ""}`;
  if (line !== undefined) return `the import stopped at ${[line, byte].filter(Boolean).join(", ")}${stopped.code === "format" && stopped.line === 1 ? " (the header)" : ""}`;
  return `the import stopped before the first row${byte ? ` (${byte})` : ""}`;
}
