/**
 * `dx import <file|->`: the Import RPC, both ways at once — the file goes up
 * in chunks while the server answers with the job id, progress (the bar: bytes
 * of the file the server has read, rows, rows/s) and each row error as it is
 * found, then the summary. Row errors are printed as they
 * arrive; `--failed-rows` saves the rejected rows afterwards. The exit code
 * says what happened (0 all written, 1 some rows rejected, 2 nothing written).
 */
import { create, toJson } from "@bufbuild/protobuf";
import { createReadStream, statSync } from "node:fs";
import { basename } from "node:path";
import type { Readable } from "node:stream";
import { FailedRowsView, ImportHeaderSchema, ImportResponseSchema, JobState, type ImportRequest, type ImportSummary, type RowError } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { WriteMode } from "../../gen/dataexchange/records/v1/records_pb.js";
import { entityName, entityOf, formatOptions, usageError, wholeNumber, writeMode } from "../arguments.js";
import type { CommandContext } from "../context.js";
import { CliError, ExitCode } from "../exit-codes.js";
import { chooseFormat } from "../formats.js";
import { cancelOnCtrlC } from "../interrupt.js";
import { parseMap, readMappingFile } from "../mapping.js";
import { bytes } from "../output.js";
import { liveProgress, quietProgress, type ProgressLine } from "../progress.js";
import { saveFailedRows } from "./failed-rows.js";

export interface ImportOptions {
  entity?: string;
  format?: string;
  mode?: string;
  strict?: boolean;
  dryRun?: boolean;
  map?: string[];
  mapping?: string;
  option?: string[];
  failedRows?: string;
  maxErrors?: string;
  maxErrorRatio?: string;
  maxChanges?: string;
}

/** A fraction for --max-error-ratio: more than 0, less than 1. */
function ratio(text: string): number {
  const value = Number(text);
  if (!/^\s*(0?\.\d+)\s*$/.test(text) || !(value > 0 && value < 1)) throw usageError(`--max-error-ratio takes a fraction between 0 and 1 such as 0.05, not ${JSON.stringify(text)}`);
  return value;
}

/** Bytes per chunk sent: big enough to keep HTTP/2 busy, small enough for smooth progress. */
const CHUNK_BYTES = 64 * 1024;

/** `row 12, line 13, column email: must be a valid email address`. */
export function rowErrorLine(e: RowError): string {
  const where = [`row ${e.row}`, e.line ? `line ${e.line}` : "", e.column ? `column ${e.column}` : ""].filter(Boolean).join(", ");
  return `${where}: ${e.reason}`;
}

function openInput(file: string): { stream: Readable; size: number; name: string } {
  if (file === "-") return { stream: process.stdin, size: 0, name: "stdin" };
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw usageError(`${file} is not a file`);
    size = stat.size;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw usageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
  return { stream: createReadStream(file, { highWaterMark: CHUNK_BYTES }), size, name: basename(file) };
}

function summaryLine(s: ImportSummary, file: string, entity: string): string {
  const counts = `${s.read} read, ${s.inserted} inserted, ${s.updated} updated, ${s.unchanged} unchanged, ${s.skipped} skipped, ${s.failed} rejected`;
  const seconds = s.duration ? (Number(s.duration.seconds) + s.duration.nanos / 1e9).toFixed(1) : "?";
  const what = s.dryRun
    ? "dry run of"
    : s.strictAborted
      ? "strict import aborted:"
      : s.state === JobState.CANCELLED
        ? "cancelled import of"
        : s.state === JobState.FAILED
          ? "failed import of"
          : "imported";
  const tail = s.dryRun ? " (dry run: nothing written)" : s.strictAborted ? " (nothing written)" : "";
  return `${what} ${file} into ${entity}: ${counts}${tail} in ${seconds} s — job ${s.jobId}`;
}

export async function runImport(ctx: CommandContext, file: string, options: ImportOptions): Promise<number> {
  const { client, out } = ctx;
  const entity = entityOf(options.entity);
  const mode = options.mode !== undefined ? writeMode(options.mode) : WriteMode.INSERT;
  const mappings = [...(options.mapping ? readMappingFile(options.mapping) : []), ...(options.map ?? []).map(parseMap)];
  const extraOptions = formatOptions(options.option ?? []);
  if (options.failedRows === "-") throw usageError("--failed-rows takes a file name (stdout carries the summary); dx failed-rows <job> -o - writes them to stdout");
  if (file === "-" && process.stdin.isTTY) throw usageError("dx import - reads the file from stdin, which is a terminal; pipe a file in or name it");
  const format = await chooseFormat(client, options.format, file, "read");
  const input = openInput(file);
  const name = entityName(entity);

  const header = create(ImportHeaderSchema, {
    entity,
    format: format.format,
    formatOptions: { ...format.options, ...extraOptions },
    mode,
    strict: options.strict ? true : undefined,
    dryRun: options.dryRun === true,
    mappings,
    maxErrors: options.maxErrors !== undefined ? BigInt(wholeNumber(options.maxErrors, "--max-errors", 0)) : undefined,
    maxErrorRatio: options.maxErrorRatio !== undefined ? ratio(options.maxErrorRatio) : undefined,
    maxChanges: options.maxChanges !== undefined ? BigInt(wholeNumber(options.maxChanges, "--max-changes", 0)) : undefined,
    fileName: file === "-" ? "" : input.name,
  });
  let read = 0;
  let rows = 0;
  let rejected = 0;
  const started = Date.now();
  const progress: ProgressLine = out.live
    ? liveProgress({
        label: `importing ${input.name}`,
        total: input.size,
        unit: "bytes",
        detail: "{rows} rows ({rate}/s), {rejected} rejected",
        eta: false,
        payload: { rows: 0, rate: 0, rejected: 0 },
      })
    : quietProgress(out.options.quiet || out.json);
  const payload = () => ({ rows, rejected, rate: Math.round(rows / Math.max(0.001, (Date.now() - started) / 1000)) });

  async function* requests(): AsyncGenerator<ImportRequest> {
    yield { $typeName: "dataexchange.transfer.v1.ImportRequest", message: { case: "header", value: header } };
    for await (const chunk of input.stream as AsyncIterable<Buffer>) {
      yield { $typeName: "dataexchange.transfer.v1.ImportRequest", message: { case: "chunk", value: chunk } };
    }
  }

  let jobId: string | undefined;
  const interruption = cancelOnCtrlC(async () => {
    if (!jobId) return false;
    await client.cancelJob({ jobId }, { timeoutMs: 5000 });
    return true;
  });
  let summary: ImportSummary | undefined;
  try {
    for await (const response of client.import(requests(), { signal: interruption.signal })) {
      out.event(toJson(ImportResponseSchema, response));
      const event = response.event;
      switch (event.case) {
        case "started":
          jobId = event.value.jobId;
          break;
        case "progress":
          // The bar follows the bytes the server has read, not those sent: HTTP/2 buffers let a small file go up at once, long before its rows are written.
          rows = Number(event.value.rowsRead);
          read = Number(event.value.bytesRead);
          progress.update(read, payload());
          break;
        case "rowError":
          rejected++;
          progress.log(rowErrorLine(event.value));
          progress.update(read, payload());
          break;
        case "summary":
          summary = event.value;
          break;
      }
    }
  } catch (error) {
    progress.stop();
    if (interruption.interrupted) throw new CliError(`cancelled: import job ${jobId ?? "(not started)"} was cancelled`, ExitCode.interrupted);
    throw error;
  } finally {
    interruption.release();
    if (input.stream !== process.stdin) input.stream.destroy();
  }
  if (!summary) {
    progress.stop();
    throw new CliError(`the server ended import job ${jobId ?? "?"} without a summary; see "dx job ${jobId ?? "<id>"}"`, ExitCode.nothingWritten);
  }
  rows = Number(summary.read);
  rejected = Number(summary.failed);
  // The final frame: 100 % when the whole file was read (a strict abort reads it all too), else where it stopped.
  progress.update(read, payload());
  if (summary.state === JobState.SUCCEEDED || summary.strictAborted) progress.complete();
  progress.stop();
  out.result(summaryLine(summary, input.name, name));
  if (options.failedRows) {
    if (summary.failed > 0n) {
      const written = await saveFailedRows(client, summary.jobId, options.failedRows, FailedRowsView.ROWS);
      out.note(`saved the ${summary.failed} rejected row${summary.failed === 1n ? "" : "s"} to ${options.failedRows} (${bytes(written)})`);
    } else out.note(`no row was rejected; ${options.failedRows} not written`);
  }
  if (interruption.interrupted) return ExitCode.interrupted;
  // Cancelled from elsewhere (dx cancel, the web UI) or failed: the import did not do what was asked.
  if (summary.strictAborted || summary.state === JobState.FAILED || summary.state === JobState.CANCELLED) return ExitCode.nothingWritten;
  if (summary.failed > 0n) return ExitCode.rowsRejected;
  return ExitCode.done;
}
