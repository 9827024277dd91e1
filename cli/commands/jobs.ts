/**
 * The job records the transfer service keeps: `dx jobs` (newest first,
 * filtered), `dx job <id>` (one, with its first row errors) and
 * `dx cancel <id>` (ends a running job `cancelled`, from any instance) and
 * `dx revert <id>` (undoes an import as a revert job, shown as `dx job` shows it).
 */
import { toJson } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { JobKind, JobSchema, JobState, type Job } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { WriteMode } from "../../gen/dataexchange/records/v1/records_pb.js";
import { entityName, entityOf, jobKind, jobState, stateName, usageError, wholeNumber } from "../arguments.js";
import type { CommandContext } from "../context.js";
import { ExitCode } from "../exit-codes.js";
import { bytes, table } from "../output.js";
import { rowErrorLine } from "./import.js";

export interface JobsOptions {
  state?: string;
  entity?: string;
  kind?: string;
  mine?: boolean;
  subject?: string;
  limit?: string;
}

function when(job: Job): string {
  return job.createdAt
    ? timestampDate(job.createdAt)
        .toISOString()
        .replace(/\.\d+Z$/, "Z")
    : "";
}

function counts(job: Job): string {
  const c = job.counts;
  if (!c) return "";
  if (job.kind === JobKind.EXPORT) return `${c.exported} exported`;
  if (job.kind === JobKind.REVERT) return `${c.restored} restored, ${c.deleted} deleted, ${c.unchanged} unchanged, ${c.refused} refused`;
  return `${c.read} read, ${c.inserted} inserted, ${c.updated} updated, ${c.unchanged} unchanged, ${c.skipped} skipped, ${c.failed} rejected`;
}

const kindName = (kind: JobKind) => (kind === JobKind.IMPORT ? "import" : kind === JobKind.EXPORT ? "export" : kind === JobKind.REVERT ? "revert" : "?");

export async function runJobs(ctx: CommandContext, options: JobsOptions): Promise<number> {
  if (options.mine && options.subject !== undefined) throw usageError("--mine and --subject both say whose jobs; give one");
  let subject = options.subject ?? "";
  if (options.mine) {
    if (!ctx.credential.subject) throw usageError(`--mine needs to know who you are, and ${ctx.credential.token ? "the token names no subject" : "no token is given"}; use --subject`);
    subject = ctx.credential.subject;
  }
  const limit = options.limit !== undefined ? wholeNumber(options.limit, "--limit") : 50;
  const jobs: Job[] = [];
  let pageToken = "";
  do {
    const page = await ctx.client.listJobs({
      subject,
      entity: options.entity !== undefined ? entityOf(options.entity) : undefined,
      state: options.state !== undefined ? jobState(options.state) : undefined,
      kind: options.kind !== undefined ? jobKind(options.kind) : undefined,
      pageSize: Math.min(limit - jobs.length, 500),
      pageToken,
    });
    jobs.push(...page.jobs);
    pageToken = page.nextPageToken;
  } while (pageToken && jobs.length < limit);
  for (const job of jobs) ctx.out.event(toJson(JobSchema, job));
  const rows = jobs.map((j) => [j.id, kindName(j.kind), stateName(j.state), entityName(j.entity!) || "audit", j.format, j.subject, when(j), counts(j)]);
  ctx.out.result(jobs.length ? table([["JOB", "KIND", "STATE", "ENTITY", "FORMAT", "BY", "CREATED", "COUNTS"], ...rows]) : "no jobs");
  return ExitCode.done;
}

function describeJob(job: Job): string {
  const lines: [string, string][] = [
    ["job", job.id],
    ["kind", kindName(job.kind)],
    ["state", stateName(job.state) + (job.error ? ` (${job.errorCode ? `${job.errorCode}: ` : ""}${job.error})` : "")],
    ["entity", entityName(job.entity!) || "audit events"],
    ["format", job.format],
    ["by", job.subject],
    ["created", when(job)],
    ["counts", counts(job)],
  ];
  if (job.kind === JobKind.IMPORT) {
    lines.push(
      ["mode", (WriteMode[job.mode] ?? "").toLowerCase().replace(/_/g, "-")],
      ["strict", String(job.strict) + (job.strictAborted ? " (aborted: nothing written)" : "")],
      ["dry run", String(job.dryRun)],
    );
    if (job.fileName) lines.push(["file", job.fileName]);
    if (job.revertedBy) lines.push(["reverted by", job.revertedBy]);
    else if (job.revertibleUntil) lines.push(["revertible until", timestampDate(job.revertibleUntil).toISOString()]);
  }
  if (job.revertOf) lines.push(["reverts", job.revertOf]);
  if (job.duration) lines.push(["duration", `${(Number(job.duration.seconds) + job.duration.nanos / 1e9).toFixed(1)} s`]);
  if (job.bytes) lines.push(["bytes", bytes(Number(job.bytes))]);
  if (job.sha256) lines.push(["sha256", job.sha256]);
  const text = table(lines.map(([k, v]) => [`${k}:`, v]));
  const errors = job.errors.map((e) => `  ${rowErrorLine(e)}`);
  const more = Number(job.errorCount) > job.errors.length ? [`  … ${Number(job.errorCount) - job.errors.length} more: dx failed-rows ${job.id} --errors -o errors.csv`] : [];
  return errors.length ? `${text}\nrow errors:\n${[...errors, ...more].join("\n")}` : text;
}

export async function runJob(ctx: CommandContext, jobId: string): Promise<number> {
  const { job } = await ctx.client.getJob({ jobId });
  if (!job) throw new Error(`the server returned no job ${jobId}`);
  ctx.out.event(toJson(JobSchema, job));
  ctx.out.result(describeJob(job));
  return ExitCode.done;
}

/** `dx revert <id>`: the revert job as it ended; its refused records are its row errors. */
export async function runRevert(ctx: CommandContext, jobId: string): Promise<number> {
  const { job } = await ctx.client.revertImport({ jobId });
  if (!job) throw new Error(`the server returned no revert job for ${jobId}`);
  ctx.out.event(toJson(JobSchema, job));
  ctx.out.result(describeJob(job));
  return ExitCode.done;
}

export async function runCancel(ctx: CommandContext, jobId: string): Promise<number> {
  const { job } = await ctx.client.cancelJob({ jobId });
  if (!job) throw new Error(`the server returned no job ${jobId}`);
  ctx.out.event(toJson(JobSchema, job));
  ctx.out.result(job.state === JobState.RUNNING ? `cancelling job ${jobId}: it ends cancelled within a second or two (dx job ${jobId})` : `job ${jobId} is ${stateName(job.state)}`);
  return ExitCode.done;
}
