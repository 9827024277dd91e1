/**
 * `dx watch <id>`: follows a job another client started — a browser's upload
 * (POST /import?async=true), a script's export, a colleague's import — through
 * WatchJob, from whichever instance answers: a live line on a terminal, each
 * row error as the job stores it, and the end. Ctrl-C stops watching; the job
 * goes on (`dx cancel <id>` cancels it). The exit code is the job's outcome,
 * as if this command had run it.
 */
import { toJson } from "@bufbuild/protobuf";
import { JobKind, JobState, WatchJobResponseSchema, type Job } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { stateName } from "../arguments.js";
import type { CommandContext } from "../context.js";
import { CliError, ExitCode } from "../exit-codes.js";
import { liveProgress, quietProgress, type ProgressLine } from "../progress.js";
import { rowErrorLine } from "./import.js";

/** The exit code of a job that ended: what `dx import`/`dx export` would have exited with. */
export function exitCodeOf(job: Job): number {
  if (job.state === JobState.SUCCEEDED) return job.kind === JobKind.IMPORT && (job.counts?.failed ?? 0n) > 0n ? ExitCode.rowsRejected : ExitCode.done;
  return ExitCode.nothingWritten;
}

function endLine(job: Job): string {
  const c = job.counts;
  const what =
    job.kind === JobKind.EXPORT
      ? `${c?.exported ?? 0n} exported`
      : `${c?.read ?? 0n} read, ${c?.inserted ?? 0n} inserted, ${c?.updated ?? 0n} updated, ${c?.unchanged ?? 0n} unchanged, ${c?.skipped ?? 0n} skipped, ${c?.failed ?? 0n} rejected`;
  return `job ${job.id} ${stateName(job.state)}: ${what}${job.error ? ` (${job.error})` : ""}`;
}

export async function runWatch(ctx: CommandContext, jobId: string): Promise<number> {
  const { client, out } = ctx;
  let progress: ProgressLine = quietProgress(out.options.quiet || out.json);
  let ended: Job | undefined;
  let rows = 0;
  let rejected = 0;
  const payload = () => ({ rows, rejected });
  try {
    for await (const response of client.watchJob({ jobId })) {
      out.event(toJson(WatchJobResponseSchema, response));
      const event = response.event;
      switch (event.case) {
        case "job": {
          const kind = event.value.kind === JobKind.EXPORT ? "export" : "import";
          if (out.live)
            progress = liveProgress({
              label: `watching ${kind} ${jobId}`,
              total: 0,
              unit: "records",
              detail: kind === "export" ? "exported" : "{rows} rows read, {rejected} rejected",
              eta: false,
              payload: payload(),
            });
          break;
        }
        case "progress": {
          const c = event.value.counts;
          rows = Number(c?.read ?? 0n);
          rejected = Number(event.value.errorCount);
          progress.update(Number(c?.exported ?? 0n) || rows, payload());
          break;
        }
        case "rowError":
          progress.log(rowErrorLine(event.value));
          break;
        case "ended":
          ended = event.value;
          break;
      }
    }
  } finally {
    progress.stop();
  }
  if (!ended) throw new CliError(`the server stopped watching job ${jobId} before it ended; see "dx job ${jobId}"`, ExitCode.cannotConnect);
  out.result(endLine(ended));
  return exitCodeOf(ended);
}
