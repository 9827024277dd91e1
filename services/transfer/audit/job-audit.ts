/**
 * The transfer service's audit events: one per import and export job,
 * appended when the job ends (succeeded, failed or cancelled), with who ran
 * it (identity, client address, trace id), what it was (entity or source,
 * format, filter, fields, mode, dry run), its counts and its outcome.
 *
 * `exportLoggingEnabled: false` turns off the events of exports only; imports
 * are writes and are always audited. An event that cannot be stored is
 * reported to the log with its content: the job has already run, and the job
 * document records it too.
 */
import type { AuditCounts, NewAuditEvent } from "../../shared/audit/index.js";
import type { Caller } from "../caller.js";
import type { JobCounts, JobDocument, JobOutcome } from "../jobs/job-types.js";
import type { TransferContext } from "../transfer-context.js";

const IMPORT_COUNTS = ["read", "inserted", "updated", "unchanged", "skipped", "failed"] as const satisfies readonly (keyof JobCounts)[];
const REVERT_COUNTS = ["restored", "deleted", "unchanged", "refused"] as const satisfies readonly (keyof JobCounts)[];

/** The audit event of a job that ended with `outcome`. */
export function jobAuditEvent(job: JobDocument, outcome: JobOutcome, caller: Caller): NewAuditEvent {
  const all: JobCounts = { ...job.counts, ...outcome.counts };
  const counts: AuditCounts = job.kind === "export" ? { exported: all.exported } : Object.fromEntries((job.kind === "revert" ? REVERT_COUNTS : IMPORT_COUNTS).map((k) => [k, all[k] ?? 0]));
  const event: NewAuditEvent = { ...caller.audit, action: job.kind, format: job.format, counts, outcome: outcome.state, jobId: job._id };
  if (job.entity) event.entity = job.entity;
  if (job.parts) event.entities = [...new Set(job.parts.map((p) => p.entity))];
  if (job.kind === "export") {
    event.source = job.source ?? "records";
    const filter = job.filter ?? job.auditFilter;
    if (filter) event.filter = filter;
    if (job.fields) event.fields = job.fields;
    // A bundle: every entity with what was asked of it, in the event's filter text.
    if (job.parts)
      event.filter = JSON.stringify({
        bundle: job.parts.map(({ entity, filter, fields, limit }) => ({ entity, ...(filter ? { filter: JSON.parse(filter) } : {}), ...(fields ? { fields } : {}), ...(limit ? { limit } : {}) })),
      });
  } else if (job.kind === "import") {
    if (job.mode) event.mode = job.mode;
    event.dryRun = job.dryRun ?? false;
    // A bundle: which entities it imported, from which part, how (the event has no one entity).
    if (job.parts) event.filter = JSON.stringify({ bundle: job.parts.map(({ entity, name, mode }) => ({ entity, name, ...(mode ? { mode } : {}) })) });
  }
  if (outcome.state !== "succeeded" && outcome.error) event.error = outcome.error;
  if (outcome.state !== "succeeded" && outcome.errorCode) event.errorCode = outcome.errorCode;
  return event;
}

/** Appends the job's event (unless it is an export and export logging is off); never throws. */
export async function auditJobEnd(ctx: Pick<TransferContext, "audit" | "config" | "log">, job: JobDocument, outcome: JobOutcome, caller: Caller): Promise<void> {
  if (job.kind === "export" && !ctx.config.exportLoggingEnabled) return;
  const event = jobAuditEvent(job, outcome, caller);
  try {
    await ctx.audit.append(event);
  } catch (error) {
    ctx.log("failed to store the audit event of job", job._id, JSON.stringify(event), error);
  }
}
