/**
 * What an import and an export share from the moment their record exists:
 * the signal that stops them (CancelJob on any instance, shutdown, a lost
 * lease, the caller going away), progress written to the record, and one way
 * to end — the record first, then the audit event, then the job leaves the
 * registry — whether it succeeded, failed, was cancelled or was abandoned by
 * its consumer.
 *
 * The end is written before the caller is handed the summary: `end` resolves
 * only once the record says what the summary will say, and throws (so the
 * caller hears an error, never a summary the record contradicts) when the
 * record could not be written (UNAVAILABLE; it is written once the outage is
 * over) or another instance had already ended the job (ABORTED). A job that
 * failed because something was unavailable is recorded in the background
 * (job-record.ts): its caller hears at once.
 */
import type { ConnectError } from "@connectrpc/connect";
import { auditJobEnd } from "../audit/job-audit.js";
import type { Caller } from "../caller.js";
import { TransferCancelledError } from "../core/errors.js";
import { codeName, toConnectError } from "../error-mapping.js";
import { JobLeaseLostError } from "../errors.js";
import type { TransferContext } from "../transfer-context.js";
import type { RegisteredJob } from "./job-registry.js";
import type { NewJob } from "./job-store.js";
import type { JobDocument, JobKind, JobOutcome, JobProgress } from "./job-types.js";

type RunContext = Pick<TransferContext, "registry" | "audit" | "config" | "log">;

/** How an end is written: what the job had done besides the outcome, and a step that completes it when written (an import's unanswered writes). */
export interface EndOptions {
  base?: Omit<JobOutcome, "state">;
  settle?: (outcome: JobOutcome) => Promise<JobOutcome>;
}

export class JobRun {
  /** Fires when the job must stop, for whatever reason. */
  readonly signal: AbortSignal;
  private over = false;

  private constructor(
    private readonly ctx: RunContext,
    private readonly registered: RegisteredJob,
    private readonly caller: Caller,
    private readonly callerSignal: AbortSignal | undefined,
    private readonly what: JobKind,
  ) {
    this.signal = callerSignal ? AbortSignal.any([callerSignal, registered.signal]) : registered.signal;
  }

  /** Records a new running job for `caller`, leased to this instance. */
  static async start(ctx: RunContext, newJob: NewJob, caller: Caller, callerSignal?: AbortSignal): Promise<JobRun> {
    // An import's rejected rows, a revert's refused records.
    const registered = await ctx.registry.start(newJob, { rowErrors: newJob.kind !== "export" });
    return new JobRun(ctx, registered, caller, callerSignal, newJob.kind);
  }

  /** Whether the job's end has been written (or handed to the background). */
  get ended(): boolean {
    return this.over;
  }

  get job(): JobDocument {
    return this.registered.job;
  }

  /** The job's row error sink (imports). */
  get errors() {
    return this.registered.errors;
  }

  /** The job's own signal: CancelJob, shutdown or a lost lease, not the caller going away. */
  get stopSignal(): AbortSignal {
    return this.registered.signal;
  }

  /** What the job has done so far (or that its followed source changed); written to the record within `jobs.progressSaveMs`. */
  progress(progress?: JobProgress): void {
    this.registered.record.progress(progress);
  }

  /** Reads the job's progress from `source` at every write of its record, lease renewals included. */
  follow(source: () => JobProgress): void {
    this.registered.record.follow(source);
  }

  /**
   * Writes the job's end (then its audit event) and releases it. Resolves
   * once the record holds the end — or, for a job that failed on an outage,
   * once the end is waiting in the background; throws when a job that
   * succeeded could not be recorded ({@link JobRecordUnavailableError}) or the
   * job was no longer this instance's ({@link JobLeaseLostError}).
   */
  async end(outcome: JobOutcome, options: EndOptions = {}): Promise<void> {
    if (this.over) return;
    this.over = true;
    const ending: JobOutcome = { ...options.base, ...outcome };
    let written: boolean | undefined;
    try {
      written = await this.registered.record.finish(
        {
          outcome: async () => (options.settle ? options.settle(ending) : ending),
          after: (recorded) => auditJobEnd(this.ctx, this.job, recorded, this.caller),
          // The outage that failed the job keeps its record from being written now too: the caller hears at once.
          background: outcome.errorCode === "unavailable",
        },
        outcome.state === "succeeded",
      );
    } finally {
      this.registered.release();
    }
    if (written === false) throw new JobLeaseLostError(this.job._id);
  }

  /**
   * Ends a job that threw `error`: cancelled when it was asked to stop or its
   * caller went away, failed otherwise. Resolves to the error its caller is
   * to hear (the job's own; a record that could not be written is logged).
   */
  async fail(error: unknown, options: EndOptions = {}): Promise<ConnectError> {
    const own = this.registered.signal;
    let outcome: JobOutcome;
    let heard: ConnectError;
    if (own.aborted && own.reason instanceof JobLeaseLostError) {
      heard = toConnectError(own.reason);
      outcome = { state: "failed", error: own.reason.message, errorCode: codeName(heard.code) };
    } else if (own.aborted) {
      heard = toConnectError(own.reason);
      outcome = { state: "cancelled", error: cancelText(own.reason), errorCode: "cancelled" };
    } else if (this.callerSignal?.aborted) {
      heard = toConnectError(error);
      outcome = { state: "cancelled", error: `the client went away before the ${this.what} finished`, errorCode: "cancelled" };
    } else {
      heard = toConnectError(error);
      outcome = { state: "failed", error: heard.rawMessage, errorCode: codeName(heard.code) };
    }
    await this.end(outcome, options).catch((recordError: unknown) => this.ctx.log(`could not record the end of ${this.what} job`, this.job._id, recordError));
    return heard;
  }

  /** Ends a job whose consumer stopped pulling (a generator's `finally`), unless it has ended. */
  async abandon(options: EndOptions = {}): Promise<void> {
    if (this.over) return;
    await this.end({ state: "cancelled", error: `the client went away before the ${this.what} finished`, errorCode: "cancelled" }, options).catch((error: unknown) =>
      this.ctx.log(`could not record the end of ${this.what} job`, this.job._id, error),
    );
  }
}

/** Why a job's own signal stopped it, for its record. */
function cancelText(reason: unknown): string {
  const cause = reason instanceof TransferCancelledError ? reason.cause : reason;
  if (cause === "cancelled by request") return "cancelled by request (CancelJob)";
  return typeof cause === "string" ? `cancelled: ${cause}` : "cancelled";
}
