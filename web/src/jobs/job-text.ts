/** How a job's enums, counts, times and durations read in the UI. */
import { timestampDate, type Duration, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Entity } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { JobKind, JobState, type Job } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";

export const STATE_TEXT: Record<JobState, string> = {
  [JobState.UNSPECIFIED]: "unknown",
  [JobState.RUNNING]: "running",
  [JobState.SUCCEEDED]: "succeeded",
  [JobState.FAILED]: "failed",
  [JobState.CANCELLED]: "cancelled",
};

export const KIND_TEXT: Record<JobKind, string> = { [JobKind.UNSPECIFIED]: "?", [JobKind.IMPORT]: "import", [JobKind.EXPORT]: "export", [JobKind.REVERT]: "revert" };

export function entityText(entity: Entity): string {
  return Entity[entity]?.toLowerCase() ?? "?";
}

export function timeText(ts: Timestamp | undefined): string {
  if (!ts) return "";
  return timestampDate(ts)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, " UTC");
}

export function durationText(d: Duration | undefined): string {
  if (!d) return "";
  const ms = Number(d.seconds) * 1000 + Math.round(d.nanos / 1e6);
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** The counts that matter for the job's kind, in a few words. */
export function countsText(job: Job): string {
  const c = job.counts;
  if (!c) return "";
  if (job.kind === JobKind.EXPORT) return `${c.exported} exported`;
  if (job.kind === JobKind.REVERT) return `${c.restored} restored, ${c.deleted} deleted, ${c.unchanged} unchanged, ${c.refused} refused`;
  const parts = [`${c.read} read`, `${c.inserted} new`, `${c.updated} updated`];
  if (c.unchanged > 0n) parts.push(`${c.unchanged} unchanged`);
  if (c.skipped > 0n) parts.push(`${c.skipped} skipped`);
  if (c.failed > 0n) parts.push(`${c.failed} failed`);
  return parts.join(", ");
}
