/**
 * `dx export <entity>`: the Export RPC (a server stream of header, chunks,
 * progress and summary) written to a file or stdout as it arrives. The file's
 * sha256 and size are checked against the summary's; a file is written under
 * a temporary name beside its target and renamed only when whole, so a
 * failed or interrupted export leaves no partial file (and an older file of
 * that name untouched).
 */
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { toJson } from "@bufbuild/protobuf";
import { createHash } from "node:crypto";
import { createWriteStream, renameSync, rmSync, type WriteStream } from "node:fs";
import { basename, dirname, join } from "node:path";
import { once } from "node:events";
import { FilterSchema, SortFieldSchema } from "../../gen/dataexchange/records/v1/records_pb.js";
import { ExportRequestSchema, ExportResponseSchema, ExportSource, type ExportRequest, type ExportSummary } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { dateOption, entityName, entityOf, formatOptions, keyValue, list, usageError, wholeNumber } from "../arguments.js";
import type { TransferClient } from "../connection.js";
import type { CommandContext } from "../context.js";
import { CliError, ExitCode } from "../exit-codes.js";
import { chooseFormat, type ChosenFormat } from "../formats.js";
import { cancelOnCtrlC } from "../interrupt.js";
import { bytes } from "../output.js";
import { liveProgress, quietProgress, type ProgressLine } from "../progress.js";

export interface ExportOptions {
  format?: string;
  output?: string;
  fields?: string[];
  filter?: string[];
  since?: string;
  until?: string;
  timeField?: string;
  sort?: string[];
  limit?: string;
  option?: string[];
  changedSince?: string;
  deletions?: boolean;
}

/** `--filter` keys and the Filter field each fills (any of the values given). */
const FILTER_KEYS = { status: "statuses", role: "roles", user_id: "userIds", course_id: "courseIds", session_id: "sessionIds", action: "actions" } as const;

function filterOf(pairs: readonly string[]): Partial<Record<(typeof FILTER_KEYS)[keyof typeof FILTER_KEYS], string[]>> {
  const filter: Partial<Record<(typeof FILTER_KEYS)[keyof typeof FILTER_KEYS], string[]>> = {};
  for (const pair of pairs) {
    const [key, value] = keyValue(pair, "--filter");
    if (!Object.hasOwn(FILTER_KEYS, key)) throw usageError(`unknown --filter ${JSON.stringify(key)}; accepted: ${Object.keys(FILTER_KEYS).join(", ")} (and --since/--until for time)`);
    const field = FILTER_KEYS[key as keyof typeof FILTER_KEYS];
    filter[field] = [...(filter[field] ?? []), ...list(value)];
  }
  return filter;
}

/** The ExportRequest the options describe. */
async function exportRequest(client: TransferClient, entityArg: string, options: ExportOptions, format: ChosenFormat, estimateTotal: boolean): Promise<ExportRequest> {
  const entity = entityOf(entityArg);
  const changedSince = options.changedSince !== undefined ? dateOption(options.changedSince, "--changed-since") : undefined;
  if (options.deletions) {
    const misplaced = options.filter?.length
      ? "--filter"
      : options.sort?.length
        ? "--sort"
        : options.since !== undefined
          ? "--since"
          : options.until !== undefined
            ? "--until"
            : options.timeField !== undefined
              ? "--time-field"
              : undefined;
    if (misplaced) throw usageError(`${misplaced} does not apply to --deletions (they come oldest first; narrow them with --changed-since)`);
    return create(ExportRequestSchema, {
      entity,
      source: ExportSource.DELETIONS,
      format: format.format,
      formatOptions: { ...format.options, ...formatOptions(options.option ?? []) },
      fields: list(options.fields),
      limit: BigInt(options.limit !== undefined ? wholeNumber(options.limit, "--limit") : 0),
      changedSince: changedSince ? timestampFromDate(changedSince) : undefined,
    });
  }
  const since = options.since !== undefined ? dateOption(options.since, "--since") : undefined;
  const until = options.until !== undefined ? dateOption(options.until, "--until") : undefined;
  let timeRanges: { field: string; from?: ReturnType<typeof timestampFromDate>; to?: ReturnType<typeof timestampFromDate> }[] = [];
  if (options.timeField !== undefined && !since && !until) throw usageError("--time-field names the field --since and --until apply to; give --since or --until with it");
  if (since || until) {
    const { description } = await client.describeEntity({ entity });
    const timeFields = description?.timeFields ?? [];
    const field = options.timeField ?? timeFields[0];
    if (!field || !timeFields.includes(field))
      throw usageError(`--since/--until apply to ${timeFields.length ? `one of ${timeFields.join(", ")} (--time-field)` : `no field: ${entityArg} has no time fields`}`);
    timeRanges = [{ field, from: since ? timestampFromDate(since) : undefined, to: until ? timestampFromDate(until) : undefined }];
  }
  return create(ExportRequestSchema, {
    entity,
    format: format.format,
    formatOptions: { ...format.options, ...formatOptions(options.option ?? []) },
    fields: list(options.fields),
    filter: create(FilterSchema, { ...filterOf(options.filter ?? []), timeRanges }),
    sort: list(options.sort).map((s) => create(SortFieldSchema, { field: s.replace(/^[-+]/, ""), descending: s.startsWith("-") })),
    limit: BigInt(options.limit !== undefined ? wholeNumber(options.limit, "--limit") : 0),
    estimateTotal,
    changedSince: changedSince ? timestampFromDate(changedSince) : undefined,
  });
}

/** Where the bytes go: stdout, or a temporary file renamed into place at the end. */
export interface Sink {
  name: string;
  write(chunk: Uint8Array): Promise<void>;
  /** Makes the file whole under its name. */
  commit(): Promise<void>;
  /** Removes what was written. */
  discard(): void;
  /** What became of the bytes when the export failed, for the error line. */
  failedNote: string;
}

/** stdout was closed by its reader (`dx export … -o - | head`). */
export class ReaderGoneError extends Error {
  override name = "ReaderGoneError";
}

function isEpipe(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "EPIPE";
}

function stdoutSink(): Sink {
  let failure: Error | undefined;
  process.stdout.on("error", (e) => (failure = e));
  return {
    name: "stdout",
    failedNote: "what went to stdout is incomplete",
    async write(chunk) {
      if (failure) throw isEpipe(failure) ? new ReaderGoneError("stdout closed") : failure;
      try {
        if (!process.stdout.write(chunk)) await once(process.stdout, "drain");
      } catch (error) {
        throw isEpipe(error) ? new ReaderGoneError("stdout closed") : error;
      }
      if (failure) throw isEpipe(failure) ? new ReaderGoneError("stdout closed") : failure;
    },
    async commit() {},
    discard() {},
  };
}

export function fileSink(path: string): Sink {
  const partial = join(dirname(path), `.${basename(path)}.dx-partial-${process.pid}`);
  const stream: WriteStream = createWriteStream(partial, { flags: "wx" });
  let failure: Error | undefined;
  stream.on("error", (e) => (failure = e));
  return {
    name: path,
    failedNote: `nothing written to ${path}`,
    async write(chunk) {
      if (failure) throw new CliError(`cannot write ${path}: ${failure.message}`, ExitCode.nothingWritten);
      if (!stream.write(chunk)) await once(stream, "drain"); // rejects on an error event
    },
    async commit() {
      stream.end();
      await once(stream, "close");
      if (failure) throw new CliError(`cannot write ${path}: ${failure.message}`, ExitCode.nothingWritten);
      renameSync(partial, path);
    },
    discard() {
      stream.destroy();
      rmSync(partial, { force: true });
    },
  };
}

export function checkSummary(summary: ExportSummary | undefined, written: number, sha256: string, note: string): ExportSummary {
  if (!summary) throw new CliError(`the server ended the export without a summary; ${note}`, ExitCode.nothingWritten);
  if (summary.sha256 && summary.sha256 !== sha256) throw new CliError(`the file's sha256 ${sha256} differs from the server's ${summary.sha256}; ${note}`, ExitCode.nothingWritten);
  if (Number(summary.bytes) !== written) throw new CliError(`received ${written} bytes but the server sent ${summary.bytes}; ${note}`, ExitCode.nothingWritten);
  return summary;
}

export async function runExport(ctx: CommandContext, entityArg: string, options: ExportOptions): Promise<number> {
  const { client, out } = ctx;
  const target = options.output;
  if (target === "-" && out.json) throw usageError("--json prints events on stdout, where -o - writes the file; write the file elsewhere with -o");
  const format = await chooseFormat(client, options.format, target, "write");
  // The estimate is a count query of its own (a second scan on FerretDB): asked for only when a bar will show it.
  const request = await exportRequest(client, entityArg, options, format, out.live);
  const name = entityName(request.entity);
  let jobId: string | undefined;
  const interruption = cancelOnCtrlC(async () => {
    if (!jobId) return false;
    await client.cancelJob({ jobId }, { timeoutMs: 5000 });
    return true;
  });
  const progress: ProgressLine = out.live ? liveProgress({ label: `exporting ${name}`, total: 0, unit: "records", detail: "{bytesShown}", payload: { bytesShown: "0 B" } }) : quietProgress(true);
  let sink: Sink | undefined;
  const hash = createHash("sha256");
  let written = 0;
  let summary: ExportSummary | undefined;
  const started = Date.now();
  try {
    for await (const response of client.export(request, { signal: interruption.signal })) {
      const event = response.event;
      if (event.case !== "chunk") out.event(toJson(ExportResponseSchema, response));
      switch (event.case) {
        case "header":
          jobId = event.value.jobId;
          sink = target === "-" ? stdoutSink() : fileSink(target ?? event.value.fileName);
          break;
        case "chunk":
          if (!sink) throw new CliError("the server sent file bytes before the export's header", ExitCode.nothingWritten);
          hash.update(event.value);
          written += event.value.length;
          await sink.write(event.value);
          break;
        case "progress":
          progress.setTotal(Number(event.value.estimatedTotal));
          progress.update(Number(event.value.records), { bytesShown: bytes(Number(event.value.bytes)) });
          break;
        case "summary":
          summary = event.value;
          break;
      }
    }
    if (interruption.interrupted) throw new CliError(`cancelled: export job ${jobId ?? "(not started)"} ended cancelled; ${sink?.failedNote ?? "nothing written"}`, ExitCode.interrupted);
    const checked = checkSummary(summary, written, hash.digest("hex"), sink?.failedNote ?? "nothing written");
    await sink?.commit();
    progress.update(Number(checked.records), { bytesShown: bytes(written) });
    progress.complete();
    progress.stop();
    const what = options.deletions ? `${name} deletion` : `${name} record`;
    // Before the job id, which ends the line (scripts read it from there).
    const mark = checked.highWaterMark ? `, next --changed-since ${timestampDate(checked.highWaterMark).toISOString()}` : "";
    const line = `exported ${checked.records} ${what}${checked.records === 1n ? "" : "s"} to ${sink?.name ?? target} (${format.format}, ${bytes(written)}, sha256 ${checked.sha256.slice(0, 12)}…) in ${((Date.now() - started) / 1000).toFixed(1)} s${mark} — job ${checked.jobId}`;
    if (target === "-") out.final(line);
    else out.result(line);
    return ExitCode.done;
  } catch (error) {
    progress.stop();
    sink?.discard();
    if (interruption.interrupted) throw new CliError(`cancelled: export job ${jobId ?? "(not started)"} was cancelled; ${sink?.failedNote ?? "nothing written"}`, ExitCode.interrupted);
    if (error instanceof ReaderGoneError) {
      // Like any tool writing into `| head`: stop quietly, and leave no job running for nobody.
      if (jobId) await client.cancelJob({ jobId }, { timeoutMs: 5000 }).catch(() => undefined);
      return ExitCode.readerGone;
    }
    throw error;
  } finally {
    interruption.release();
  }
}
