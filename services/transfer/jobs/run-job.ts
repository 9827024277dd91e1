/**
 * The one lifecycle of a job, import or export alike:
 *
 * 1. plan: check the request (a refusal here creates no job, nor does a
 *    caller gone by the end of it);
 * 2. create the job's record, leased to this instance ({@link JobRun.start});
 * 3. scope the logs (every line carries `job_id`) and trace the job as one
 *    span under the caller's RPC span;
 * 4. run the job's steps, handing out their events;
 * 5. end: the steps write a success themselves (`run.end`, before they hand
 *    out the summary, so a client never hears a summary the record
 *    contradicts); a step that throws fails or cancels the job
 *    ({@link JobRun.fail}); a consumer that stops pulling cancels it
 *    ({@link JobRun.abandon}). Whatever the steps opened is closed first.
 *    Each end writes the job's audit event (running-job.ts).
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { inJobScope, setCurrentJobId } from "../../shared/logging/index.js";
import { traceAsyncIterable } from "../../shared/telemetry/index.js";
import type { Caller } from "../caller.js";
import { toConnectError } from "../error-mapping.js";
import type { TransferContext } from "../transfer-context.js";
import { JobRun, type EndOptions } from "./running-job.js";
import type { NewJob } from "./job-store.js";

/** A job's request, checked: the record to create and the steps to run once it exists. */
export interface JobPlan<E> {
  record: NewJob;
  start(run: JobRun): JobSteps<E>;
}

/** What a started job does, and what it has done so far. */
export interface JobSteps<E> {
  /** The job's events; the last one (the summary) comes after `run.end` has recorded the success. */
  events: AsyncIterable<E>;
  /** What the job has done so far, for an end the steps did not write (a failure, a cancellation). */
  sofar(): EndOptions;
  /** Closes what the steps opened (streams, staging); called before any end the lifecycle writes, and again at the very end. Must be idempotent. */
  close(): Promise<void> | void;
}

export interface JobTrace {
  span: string;
  attributes: Record<string, string>;
}

/**
 * Runs one job for `caller`: its events, or the error its caller is to hear
 * (mapped, once the job's end is recorded).
 */
export function runJob<E>(ctx: TransferContext, caller: Caller, callerSignal: AbortSignal | undefined, trace: JobTrace, plan: () => JobPlan<E> | Promise<JobPlan<E>>): AsyncGenerator<E> {
  return inJobScope(traced(trace, lifecycle(ctx, caller, callerSignal, plan)));
}

async function* traced<E>(trace: JobTrace, events: AsyncGenerator<E>): AsyncGenerator<E> {
  yield* traceAsyncIterable(trace.span, trace.attributes, events);
}

async function* lifecycle<E>(ctx: TransferContext, caller: Caller, callerSignal: AbortSignal | undefined, plan: () => JobPlan<E> | Promise<JobPlan<E>>): AsyncGenerator<E> {
  const { record, start } = await plan();
  // A caller gone while the request was checked (an upload cancelled as its last bytes arrived) starts no job.
  if (callerSignal?.aborted) throw new ConnectError("the client went away before the job started: no job was started", Code.Canceled);
  const run = await JobRun.start(ctx, record, caller, callerSignal);
  setCurrentJobId(run.job._id);
  const steps = start(run);
  try {
    yield* steps.events;
  } catch (error) {
    if (run.ended) throw toConnectError(error);
    await steps.close();
    throw await run.fail(error, steps.sofar());
  } finally {
    await steps.close();
    // Reached without an end only when the consumer stopped pulling.
    if (!run.ended) await run.abandon(steps.sofar());
  }
}
