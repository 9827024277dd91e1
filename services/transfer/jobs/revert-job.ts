/**
 * Undoing an import (RevertImport, `POST /jobs/{id}/revert`) as a job of its
 * own, kind `revert`, through the same lifecycle as imports and exports
 * (run-job.ts): a record with counts, an audit event, row errors.
 *
 * The transfer service holds no before-images: the records service keeps
 * what each import's writes replaced (its store/before-images.ts) and undoes
 * them in RevertWrites, record by record; this job asks it to, for the
 * caller, and keeps what it answers — the counts (restored, deleted,
 * unchanged, refused) and every refused record as a row error (its key as
 * the value, the reason, a code such as `changed`), numbered in the order
 * found, which GetFailedRows lists like rejected rows.
 *
 * A revert is refused before any job exists (FAILED_PRECONDITION) when the
 * job is not an import, was a dry run, is still running, was already
 * reverted (by a revert that did not fail), kept nothing to revert, or its
 * `revertibleUntil` has passed. The import's record is then claimed for this
 * revert (`revertedBy`, set only if no other revert claimed it first), so two
 * reverts of one import never both run; a revert that failed part-way (the
 * records service went away) leaves it claimed by a failed job, and running
 * the revert again goes on where it stopped.
 */
import { ConnectError, Code } from "@connectrpc/connect";
import { entitySpec } from "../../domain/index.js";
import { entityEnum } from "../../shared/records-wire/record-codec.js";
import { checkRevert } from "../access-policy.js";
import type { Caller } from "../caller.js";
import { NotRevertibleError } from "../errors.js";
import { recordsFor } from "../records/records-for-caller.js";
import type { TransferContext } from "../transfer-context.js";
import type { JobRun } from "./running-job.js";
import { runJob, type JobSteps } from "./run-job.js";
import type { JobCounts, JobDocument } from "./job-types.js";
import { WITHHELD } from "./job-views.js";

export type RevertJobEvent = { kind: "started"; jobId: string } | { kind: "ended"; jobId: string };

/**
 * Reverts import `importId` for `caller` and resolves to the revert job as
 * it ended; throws (mapped) when the revert is refused or fails.
 */
export async function revertImport(ctx: TransferContext, importId: string, caller: Caller, callerSignal?: AbortSignal): Promise<JobDocument> {
  let jobId: string | undefined;
  for await (const event of revertJob(ctx, importId, caller, callerSignal)) jobId = event.jobId;
  return ctx.jobs.get(jobId!);
}

function revertJob(ctx: TransferContext, importId: string, caller: Caller, callerSignal?: AbortSignal): AsyncGenerator<RevertJobEvent> {
  return runJob(ctx, caller, callerSignal, { span: "transfer.revert", attributes: { "dx.revert_of": importId, "dx.subject": caller.subject } }, async () => {
    const target = await ctx.jobs.get(importId);
    const denied = caller.principal ? checkRevert(caller.principal, target) : undefined;
    if (denied) throw new ConnectError(`permission denied: ${denied}`, Code.PermissionDenied);
    await refuseUnrevertible(ctx, target);
    return {
      record: { kind: "revert", subject: caller.subject, entity: target.entity, format: "", formatOptions: "{}", revertOf: target._id },
      start: (run) => revertSteps(ctx, run, target, caller),
    };
  });
}

/** Throws {@link NotRevertibleError} saying why, unless `job` is an ended import with writes that can still be reverted. */
async function refuseUnrevertible(ctx: TransferContext, job: JobDocument, now = new Date()): Promise<void> {
  if (job.kind !== "import") throw new NotRevertibleError(`job ${job._id} is ${job.kind === "export" ? "an export" : "a revert"}, not an import: only imports can be reverted`);
  if (job.dryRun) throw new NotRevertibleError(`import ${job._id} was a dry run: it wrote nothing to revert`);
  if (job.state === "running") throw new NotRevertibleError(`import ${job._id} is still running: revert it once it has ended (CancelJob stops it)`);
  if (job.revertedBy) {
    const previous = await ctx.jobs.jobs.findOne({ _id: job.revertedBy }, { projection: { state: 1 } });
    if (previous?.state === "running") throw new NotRevertibleError(`import ${job._id} is being reverted by job ${job.revertedBy}`);
    if (previous?.state === "succeeded") throw new NotRevertibleError(`import ${job._id} was already reverted by job ${job.revertedBy}`);
  }
  if (!job.revertibleUntil) throw new NotRevertibleError(`import ${job._id} kept nothing to revert: it inserted and changed no records (or ran before imports could be reverted)`);
  if (job.revertibleUntil.getTime() <= now.getTime()) {
    throw new NotRevertibleError(`import ${job._id} can no longer be reverted: what it replaced was kept until ${job.revertibleUntil.toISOString()}`);
  }
}

function revertSteps(ctx: TransferContext, run: JobRun, target: JobDocument, caller: Caller): JobSteps<RevertJobEvent> {
  const job = run.job;
  const sink = run.errors!;
  // A bundle import's parts, the last imported first (what references the earlier parts goes before them).
  const specs = target.parts ? target.parts.map((p) => entitySpec(p.entity)!).reverse() : [entitySpec(target.entity!)!];
  const counts: Required<Pick<JobCounts, "restored" | "deleted" | "unchanged" | "refused">> = { restored: 0, deleted: 0, unchanged: 0, refused: 0 };
  run.follow(() => ({ counts: { ...counts }, bytes: 0, errorCount: sink.count }));
  async function* events(): AsyncGenerator<RevertJobEvent> {
    yield { kind: "started", jobId: job._id };
    await claim(ctx, target, job._id);
    const records = recordsFor(ctx.records, caller, job._id);
    for (const spec of specs) {
      const personalKey = spec.fields.some((f) => f.personal && spec.keyFields.includes(f.key));
      for await (const batch of records.revertWrites({ jobId: target._id, entity: entityEnum(spec.name) }, { signal: run.signal })) {
        counts.restored += batch.restored;
        counts.deleted += batch.deleted;
        counts.unchanged += batch.unchanged;
        counts.refused += batch.refused;
        for (const refusal of batch.refusals) {
          const parts = refusal.key?.parts ?? [];
          await sink.add({
            ...(target.parts ? { part: target.parts.find((p) => p.entity === spec.name)?.name } : {}),
            row: sink.count + 1,
            column: spec.keyFields.join(","),
            value: parts.length > 0 ? parts.join(", ") : WITHHELD,
            reason: refusal.reason,
            code: refusal.code as never,
            ...(personalKey && parts.length > 0 ? { personal: [...parts] } : {}),
          });
        }
        run.progress();
      }
    }
    await run.end({ state: "succeeded", counts: { ...counts } });
    yield { kind: "ended", jobId: job._id };
  }
  return { events: events(), sofar: () => ({ base: { counts: { ...counts } } }), close: () => undefined };
}

/** Marks the import as this revert's, unless another revert claimed it since it was read. */
async function claim(ctx: TransferContext, target: JobDocument, revertId: string): Promise<void> {
  const unclaimed = target.revertedBy ? { revertedBy: target.revertedBy } : { revertedBy: { $exists: false } };
  const result = await ctx.jobs.jobs.updateOne({ _id: target._id, kind: "import", ...unclaimed }, { $set: { revertedBy: revertId } });
  if (result.matchedCount !== 1) throw new NotRevertibleError(`import ${target._id} was claimed by another revert meanwhile`);
}
