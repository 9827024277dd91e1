/**
 * `dx failed-rows <job> -o file [--errors]`: the rows an import rejected, in
 * the upload's own format (fix them and import that file again), or with
 * `--errors` a CSV of row, line, column, value and reason. Also what
 * `dx import --failed-rows` saves. A bundle import's rows are one part's
 * (`--part users.csv`): its parts are files of different columns.
 */
import { FailedRowsView } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { createWriteStream, renameSync, rmSync } from "node:fs";
import { once } from "node:events";
import { basename, dirname, join } from "node:path";
import type { TransferClient } from "../connection.js";
import type { CommandContext } from "../context.js";
import { ExitCode } from "../exit-codes.js";
import { bytes } from "../output.js";
import { usageError } from "../arguments.js";

/** Streams the job's failed rows into `path` (`-`: stdout); the file appears only when whole. Returns the bytes written. */
export async function saveFailedRows(client: TransferClient, jobId: string, path: string, view: FailedRowsView, part = ""): Promise<number> {
  let written = 0;
  if (path === "-") {
    for await (const response of client.getFailedRows({ jobId, view, part })) {
      written += response.chunk.length;
      if (!process.stdout.write(response.chunk)) await once(process.stdout, "drain");
    }
    return written;
  }
  const partial = join(dirname(path), `.${basename(path)}.dx-partial-${process.pid}`);
  const stream = createWriteStream(partial, { flags: "wx" });
  try {
    for await (const response of client.getFailedRows({ jobId, view, part })) {
      written += response.chunk.length;
      if (!stream.write(response.chunk)) await once(stream, "drain");
    }
    stream.end();
    await once(stream, "close");
    renameSync(partial, path);
    return written;
  } catch (error) {
    stream.destroy();
    rmSync(partial, { force: true });
    throw error;
  }
}

export interface FailedRowsOptions {
  output?: string;
  errors?: boolean;
  /** A bundle import's part (users.csv, or users): its rejected rows, in its own file's form. */
  part?: string;
}

export async function runFailedRows(ctx: CommandContext, jobId: string, options: FailedRowsOptions): Promise<number> {
  if (!options.output) throw usageError("say where to write the rows with -o file (or -o - for stdout)");
  if (options.output === "-" && ctx.out.json) throw usageError("--json prints events on stdout, where -o - writes the rows; write them elsewhere with -o");
  const view = options.errors ? FailedRowsView.ERRORS : FailedRowsView.ROWS;
  const written = await saveFailedRows(ctx.client, jobId, options.output, view, options.part);
  const line = `wrote the ${options.errors ? "row errors" : "rejected rows"} of job ${jobId} to ${options.output === "-" ? "stdout" : options.output} (${bytes(written)})`;
  if (options.output === "-") ctx.out.final(line);
  else ctx.out.result(line);
  ctx.out.event({ jobId, file: options.output, bytes: written, view: options.errors ? "errors" : "rows" });
  return ExitCode.done;
}
