/**
 * A bundle import as one job (kind import): a workbook with a sheet per
 * entity, or a ZIP of one file per entity (core/bundle-archive.ts), imported
 * part by part in dependency order — users and courses, then sessions and
 * enrollments, activity last — whatever order the file has. Each part is read
 * by the core's import pipeline exactly as a single import of that entity
 * would be, with its own mapping, mode and format options; its counts are
 * kept on the job (`parts`), and its row errors name it (`part`: the sheet
 * or the ZIP entry) and its row.
 *
 * Refused before a record is read (INVALID_ARGUMENT / PERMISSION_DENIED, no
 * job): what the bundle holds that is not understood (bundle-archive.ts), a
 * part's settings for an entity the bundle does not hold, a part whose
 * entity the caller may not import, a mode an entity does not take.
 *
 * Strict (all or nothing across the bundle):
 *  1. every part is validated first, writing nothing: its rows mapped and
 *     checked, then sent to the records service as dry runs, where a
 *     reference to a row of an earlier part of the bundle counts as found
 *     (core/bundle-references.ts). Any rejected row in any part: the job
 *     ends strict-aborted, and nothing of any part was written.
 *  2. only then are the parts written, in order, each as a strict import
 *     (validated again against the store, now holding the earlier parts,
 *     staged, then replayed). If a part still fails then — a record another
 *     writer created or changed since step 1, a check the records service
 *     could only make once the references were stored (an insert onto an
 *     existing key), the records service going away, the job cancelled —
 *     the parts written before it, and what it wrote, are undone with the revert machinery
 *     (the records service's before-images of this job), and the job fails
 *     saying so. What the undo refuses (a record changed again meanwhile) is
 *     reported as row errors of that part: that much is not all-or-nothing,
 *     and the job's error says it. If the records service cannot be reached
 *     for the undo either, the job's error says so: RevertImport of the job
 *     undoes the parts once it answers.
 *
 * Lenient: each part writes what is valid, in order; a row referring to a
 * row rejected in an earlier part is rejected itself (missing_reference). A
 * part refused as a whole (its header does not fit its mapping) stops the
 * bundle there; the parts before it stay written (the job's error says so).
 *
 * A dry run is step 1 alone, strict or not: what each part would do.
 *
 * Not for bundles: the error budget and change guard (max_errors, …) and the
 * failed-rows file in the upload's format (GetFailedRows' errors view lists
 * every rejected row with its part).
 */
import { emptyRowCounts, type EntityName, type RowCounts, type RowError, type WriteMode } from "../../domain/index.js";
import { entityEnum } from "../../shared/records-wire/record-codec.js";
import type { Caller } from "../caller.js";
import { bundleZipLimits, importLimits } from "../config/transfer-config.js";
import { openBundle, type BundleArchive } from "../core/bundle-archive.js";
import { BundleKeys, bundleAwareWriter } from "../core/bundle-references.js";
import { TransferSettingsError } from "../core/errors.js";
import type { SummaryEvent } from "../core/import-events.js";
import { runImport, type ImportSettings, type RecordWriter } from "../core/import-pipeline.js";
import { createStagingArea } from "../core/staging-area.js";
import { InvalidTransferRequestError } from "../errors.js";
import { recordsFor } from "../records/records-for-caller.js";
import { RecordsStreamWriter } from "../records/records-writer.js";
import type { TransferContext } from "../transfer-context.js";
import { stopPlace } from "./import-job.js";
import { jobPart, optionsOf, planParts, type ImportBundleJobRequest, type PlannedPart } from "./import-bundle-plan.js";
import { FailedRowStore } from "./failed-row-store.js";
import { bundlePartRowsId } from "./failed-rows-file.js";
import { runJob, type JobSteps } from "./run-job.js";
import type { JobRun } from "./running-job.js";

export type { BundlePartImport, ImportBundleJobRequest } from "./import-bundle-plan.js";

/** A part as the summary reports it. */
export interface BundlePartSummary {
  entity: EntityName;
  name: string;
  format: string;
  mode: WriteMode;
  counts: RowCounts;
}

export interface ImportBundleSummary extends RowCounts {
  jobId: string;
  container: "workbook" | "zip";
  sha256: string;
  bytes: number;
  strictAborted: boolean;
  dryRun: boolean;
  state: "succeeded" | "failed";
  durationMs: number;
  parts: BundlePartSummary[];
  error?: string;
}

export type ImportBundleEvent =
  | { kind: "started"; jobId: string }
  | { kind: "progress"; part: string; rowsRead: number; bytesRead: number; phase: string }
  | ({ kind: "row_error" } & RowError)
  | ({ kind: "summary" } & ImportBundleSummary);

/**
 * Runs a bundle import over `upload`; throws (mapped) when it is refused,
 * fails or is cancelled — after the summary when the job got that far.
 */
export function importBundleJob(
  ctx: TransferContext,
  request: ImportBundleJobRequest,
  upload: AsyncIterable<Uint8Array>,
  caller: Caller,
  callerSignal?: AbortSignal,
): AsyncGenerator<ImportBundleEvent> {
  return runJob(ctx, caller, callerSignal, { span: "transfer.import_bundle", attributes: { "dx.subject": caller.subject } }, async () => {
    const archive = await openBundle(upload, { plugins: ctx.plugins.plugins, maxFileBytes: importLimits(ctx.config).maxFileBytes, zipLimits: bundleZipLimits(ctx.config) });
    let planned: PlannedPart[];
    try {
      planned = planParts(archive, request, caller);
    } catch (error) {
      await archive.close();
      throw error;
    }
    const strict = request.strict ?? ctx.config.strictImportByDefault;
    return {
      record: {
        kind: "import",
        subject: caller.subject,
        format: archive.container === "zip" ? "zip" : planned[0]!.part.plugin.name,
        formatOptions: "{}",
        strict,
        dryRun: request.dryRun,
        fileName: request.fileName || undefined,
        requestId: request.requestId,
        parts: planned.map((p) => jobPart(p, emptyRowCounts())),
      },
      start: (run) => bundleSteps(ctx, run, { archive, planned, strict, dryRun: request.dryRun, caller }),
    };
  });
}

/** How one pass reads a part: validating (dry runs, the bundle's own keys count as stored) or writing. */
type Pass = { kind: "validate"; keys: BundleKeys } | { kind: "write"; strict: boolean };

interface PartOutcome {
  summary: SummaryEvent;
  /** What the part's real writes stored, as the records service answered (for an undo's report). */
  wrote: boolean;
}

function bundleSteps(
  ctx: TransferContext,
  run: JobRun,
  { archive, planned, strict, dryRun, caller }: { archive: BundleArchive; planned: PlannedPart[]; strict: boolean; dryRun: boolean; caller: Caller },
): JobSteps<ImportBundleEvent> {
  const job = run.job;
  const sink = run.errors!;
  const signal = run.signal;
  const records = recordsFor(ctx.records, caller, job._id);
  const counts = planned.map(() => emptyRowCounts());
  // Each part's rejected rows, as its file had them (GetFailedRows with the part's name).
  const failedRowStore = new FailedRowStore(ctx.db, ctx.jobs.maxStoredRowErrors);
  const failedRows = planned.map((p) => failedRowStore.sink(bundlePartRowsId(job._id, p.part.entity.name)));
  let revertibleUntil: Date | undefined;
  const totals = (): RowCounts => {
    const all = emptyRowCounts();
    for (const c of counts) for (const key of Object.keys(all) as (keyof RowCounts)[]) all[key] += c[key];
    return all;
  };
  const parts = () => planned.map((p, i) => jobPart(p, { ...counts[i]! }));
  run.follow(() => ({ counts: totals(), bytes: archive.bytes, errorCount: sink.count }));
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await archive.close();
  };

  /** Reads one part through the import pipeline, its row errors kept and handed out with the part's name. */
  async function* importPart(index: number, pass: Pass): AsyncGenerator<ImportBundleEvent, PartOutcome> {
    const { part, settings } = planned[index]!;
    const staging = createStagingArea(ctx.db, `${job._id}-${part.entity.name}`);
    const streamWriter = new RecordsStreamWriter(records, part.entity, signal);
    const writer: RecordWriter = pass.kind === "validate" ? bundleAwareWriter(streamWriter, part.entity, pass.keys) : streamWriter;
    const importSettings: ImportSettings = {
      entity: part.entity,
      plugin: part.plugin,
      pluginOptions: optionsOf(part, settings),
      mode: settings.mode,
      strict: pass.kind === "validate" ? strict : pass.strict,
      dryRun: pass.kind === "validate",
      mapping: settings.mapping,
      limits: importLimits(ctx.config),
      batchSize: ctx.config.importBatchSize,
      writesInFlight: ctx.config.importWritesInFlight,
      nestedDelimiter: ctx.config.nestedDelimiter,
      signal,
    };
    counts[index] = emptyRowCounts();
    try {
      let summary: SummaryEvent | undefined;
      try {
        for await (const event of runImport(part.open(), importSettings, writer, staging)) {
          if (event.kind === "progress") {
            counts[index] = { ...event.counts };
            run.progress();
            yield { kind: "progress", part: part.name, rowsRead: event.rowsRead, bytesRead: event.bytesRead, phase: event.phase };
          } else if (event.kind === "row_error") {
            const { kind: _kind, ...rest } = event;
            const error: RowError = { part: part.name, ...rest };
            await sink.add(error);
            yield { kind: "row_error", ...error };
          } else if (event.kind === "failed_row") await failedRows[index]!.add(event);
          else if (event.kind === "summary") summary = event;
        }
      } catch (error) {
        if (error instanceof TransferSettingsError) throw new TransferSettingsError(`${part.name}: ${error.message}`, error.issues, { cause: error });
        throw error;
      }
      if (!summary) throw new Error(`the import of ${part.name} ended without a summary`);
      await failedRows[index]!.finish({ names: summary.header?.names, detected: summary.header?.detected, encoding: summary.encoding });
      counts[index] = { read: summary.read, inserted: summary.inserted, updated: summary.updated, unchanged: summary.unchanged, skipped: summary.skipped, failed: summary.failed };
      return { summary, wrote: !summary.dryRun && summary.inserted + summary.updated > 0 };
    } finally {
      await streamWriter.close();
      await staging.drop().catch(() => undefined);
      const until = streamWriter.revertibleUntil;
      if (until && (!revertibleUntil || until < revertibleUntil)) revertibleUntil = until;
    }
  }

  /** Undoes what this job wrote of parts `0…last`, newest first, with the records service's before-images; what it refuses is a row error of that part. */
  async function undo(last: number, undoSignal: AbortSignal | undefined = signal): Promise<string> {
    let restored = 0;
    let deleted = 0;
    let refused = 0;
    for (let i = last; i >= 0; i--) {
      const { part } = planned[i]!;
      for await (const batch of records.revertWrites({ jobId: job._id, entity: entityEnum(part.entity.name) }, { signal: undoSignal })) {
        restored += batch.restored;
        deleted += batch.deleted;
        refused += batch.refused;
        for (const refusal of batch.refusals) {
          const key = refusal.key?.parts ?? [];
          await sink.add({ part: part.name, row: 0, column: part.entity.keyFields.join(","), value: key.join(", "), reason: `not undone: ${refusal.reason}`, code: refusal.code as never });
        }
      }
    }
    revertibleUntil = undefined;
    // What the counts said was written is no longer: the rows were read, and those that failed failed.
    for (let i = 0; i <= last; i++) counts[i] = { ...emptyRowCounts(), read: counts[i]!.read, failed: counts[i]!.failed };
    const what = `the parts written before were undone (${deleted} record(s) deleted, ${restored} restored)`;
    return refused > 0 ? `${what}, except ${refused} record(s) changed since by others, left as they are (row errors)` : what;
  }

  /** The job's end and its summary event; the error, if any, is thrown after the summary. */
  async function* finish(outcome: { state: "succeeded" | "failed"; strictAborted: boolean; error?: string; errorCode?: string; thrown?: unknown }): AsyncGenerator<ImportBundleEvent> {
    await close();
    const all = totals();
    await run.end(
      { state: outcome.state, counts: all, sha256: archive.sha256, error: outcome.error, errorCode: outcome.errorCode, strictAborted: outcome.strictAborted, revertibleUntil, parts: parts() },
      { base: { bytes: archive.bytes } },
    );
    yield {
      kind: "summary",
      jobId: job._id,
      container: archive.container,
      ...all,
      sha256: archive.sha256,
      bytes: archive.bytes,
      strictAborted: outcome.strictAborted,
      dryRun,
      state: outcome.state,
      durationMs: Date.now() - job.createdAt.getTime(),
      parts: planned.map((p, i) => ({ entity: p.part.entity.name, name: p.part.name, format: p.part.plugin.name, mode: p.settings.mode, counts: { ...counts[i]! } })),
      ...(outcome.error ? { error: outcome.error } : {}),
    };
    if (outcome.thrown !== undefined) throw outcome.thrown;
  }

  async function* events(): AsyncGenerator<ImportBundleEvent> {
    yield { kind: "started", jobId: job._id };
    if (strict || dryRun) {
      const keys = new BundleKeys(planned.map((p) => p.part.entity));
      let stop: string | undefined;
      for (let i = 0; i < planned.length; i++) {
        const { summary } = yield* importPart(i, { kind: "validate", keys });
        if (summary.stopped && stop === undefined) stop = `${planned[i]!.part.name}: ${stopPlace(summary.stopped)}: ${summary.stopped.reason}`;
        // A strict bundle with a part refused as a whole stops here: nothing will be written.
        if (summary.stopped && strict) break;
      }
      const failed = totals().failed;
      if (strict && (failed > 0 || stop !== undefined)) {
        const error = stop ?? `strict bundle import: ${failed} row(s) were rejected, so nothing of any part was written`;
        yield* finish({
          state: "failed",
          strictAborted: true,
          error,
          errorCode: stop ? "invalid_argument" : "failed_precondition",
          thrown: stop ? new InvalidTransferRequestError(error, "file") : undefined,
        });
        return;
      }
      if (dryRun) {
        yield* finish({
          state: stop ? "failed" : "succeeded",
          strictAborted: false,
          error: stop,
          errorCode: stop ? "invalid_argument" : undefined,
          thrown: stop ? new InvalidTransferRequestError(stop, "file") : undefined,
        });
        return;
      }
    }
    for (let i = 0; i < planned.length; i++) {
      let outcome: PartOutcome;
      try {
        outcome = yield* importPart(i, { kind: "write", strict });
      } catch (error) {
        if (!strict) throw error;
        // Cancelled, or the records service failed mid-way: undo what was written (not bound to the job's signal, which a cancel has fired).
        const undone = await undo(i, undefined).catch(
          (e: unknown) => `undoing the parts written failed too (${(e as Error).message}); RevertImport of this job undoes them once the records service answers`,
        );
        if (signal.aborted) {
          ctx.log(`bundle import job ${job._id} stopped at ${planned[i]!.part.name}: ${undone}`);
          throw error;
        }
        throw new Error(`${planned[i]!.part.name}: ${(error as Error).message}; ${undone}`, { cause: error });
      }
      const { summary } = outcome;
      if (strict && (summary.strictAborted || summary.stopped || summary.failed > 0)) {
        const undone = await undo(i);
        const why = summary.stopped ? `${stopPlace(summary.stopped)}: ${summary.stopped.reason}` : `${summary.failed} row(s) were rejected when written`;
        yield* finish({ state: "failed", strictAborted: true, error: `strict bundle import: ${planned[i]!.part.name}: ${why}; ${undone}`, errorCode: "failed_precondition" });
        return;
      }
      if (summary.stopped) {
        const error = `${planned[i]!.part.name}: ${stopPlace(summary.stopped)}: ${summary.stopped.reason}${i > 0 ? "; the parts before it stay written" : ""}`;
        yield* finish({ state: "failed", strictAborted: false, error, errorCode: "invalid_argument", thrown: new InvalidTransferRequestError(error, "file") });
        return;
      }
    }
    yield* finish({ state: "succeeded", strictAborted: false });
  }

  return { events: events(), sofar: () => ({ base: { counts: totals(), bytes: archive.bytes, revertibleUntil, parts: parts() } }), close };
}
