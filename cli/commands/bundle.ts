/**
 * `dx bundle-export` and `dx bundle-import`: several entities in one file —
 * one XLSX/ODS workbook with a sheet per entity, or a ZIP of one file per
 * entity (users.csv, courses.csv, …) — over the ExportBundle and
 * ImportBundle RPCs.
 *
 * Export writes the file as `dx export` does (a temporary name beside the
 * target, renamed once whole and its sha256 checked against the server's).
 * Import sends the file up in chunks and prints each rejected row with its
 * part (`enrollments.csv row 2, column role: …`), then one line per part and
 * the totals; the exit code is `dx import`'s (0 all written, 1 some rows
 * rejected, 2 nothing written).
 *
 * Per-entity settings are prefixed with the entity: `--fields users=email,username`
 * (export), `--mode users=upsert`, `--option enrollments.delimiter=;`,
 * `--mapping enrollments=map.json` (import).
 */
import { create, toJson } from "@bufbuild/protobuf";
import { createHash } from "node:crypto";
import { createReadStream, statSync } from "node:fs";
import { basename } from "node:path";
import { WriteMode } from "../../gen/dataexchange/records/v1/records_pb.js";
import {
  ExportBundleRequestSchema,
  ExportBundleResponseSchema,
  ImportBundleHeaderSchema,
  ImportBundleResponseSchema,
  ImportPartSchema,
  JobState,
  type ExportSummary,
  type ImportBundleRequest,
  type ImportBundleSummary,
  type ImportPart,
  type RowError,
} from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { entityName, entityOf, formatOptions, keyValue, list, usageError, writeMode } from "../arguments.js";
import type { CommandContext } from "../context.js";
import { CliError, ExitCode } from "../exit-codes.js";
import { chooseFormat } from "../formats.js";
import { cancelOnCtrlC } from "../interrupt.js";
import { readMappingFile } from "../mapping.js";
import { bytes } from "../output.js";
import { checkSummary, fileSink, type Sink } from "./export.js";
import { rowErrorLine } from "./import.js";

export interface ExportBundleOptions {
  format?: string;
  output?: string;
  fields?: string[];
}

/** `--fields users=email,username` → per entity. */
function fieldsByEntity(pairs: readonly string[]): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const pair of pairs) {
    const [entity, value] = keyValue(pair, "--fields");
    if (fields.has(entity)) throw usageError(`--fields ${entity}=… is given twice`);
    fields.set(entity, list(value));
  }
  return fields;
}

export async function runExportBundle(ctx: CommandContext, entities: string, options: ExportBundleOptions): Promise<number> {
  const { client, out } = ctx;
  if (options.output === "-") throw usageError("a bundle is a ZIP or a workbook: write it to a file with -o");
  const names = list(entities);
  const fields = fieldsByEntity(options.fields ?? []);
  for (const name of fields.keys()) if (!names.includes(name)) throw usageError(`--fields ${name}=… names an entity the bundle does not (${names.join(",")})`);
  const format = await chooseFormat(client, options.format, options.output, "write");
  const request = create(ExportBundleRequestSchema, {
    format: format.format,
    formatOptions: format.options,
    parts: names.map((name) => ({ entity: entityOf(name), fields: fields.get(name) ?? [] })),
  });
  let jobId: string | undefined;
  const interruption = cancelOnCtrlC(async () => {
    if (!jobId) return false;
    await client.cancelJob({ jobId }, { timeoutMs: 5000 });
    return true;
  });
  let sink: Sink | undefined;
  const hash = createHash("sha256");
  let written = 0;
  let summary: ExportSummary | undefined;
  try {
    for await (const response of client.exportBundle(request, { signal: interruption.signal })) {
      const event = response.event;
      if (event.case !== "chunk") out.event(toJson(ExportBundleResponseSchema, response));
      if (event.case === "header") {
        jobId = event.value.jobId;
        sink = fileSink(options.output ?? event.value.fileName);
      } else if (event.case === "chunk") {
        if (!sink) throw new CliError("the server sent file bytes before the export's header", ExitCode.nothingWritten);
        hash.update(event.value);
        written += event.value.length;
        await sink.write(event.value);
      } else if (event.case === "summary") summary = event.value;
    }
    const checked = checkSummary(summary, written, hash.digest("hex"), sink?.failedNote ?? "nothing written");
    await sink?.commit();
    const parts = checked.parts.map((p) => `${p.name} ${p.records}`).join(", ");
    out.result(`exported a bundle of ${parts} to ${sink?.name} (${format.format}, ${bytes(written)}, sha256 ${checked.sha256.slice(0, 12)}…) — job ${checked.jobId}`);
    return ExitCode.done;
  } catch (error) {
    sink?.discard();
    if (interruption.interrupted) throw new CliError(`cancelled: export job ${jobId ?? "(not started)"} was cancelled; nothing written`, ExitCode.interrupted);
    throw error;
  } finally {
    interruption.release();
  }
}

export interface ImportBundleOptions {
  strict?: boolean;
  dryRun?: boolean;
  mode?: string[];
  option?: string[];
  mapping?: string[];
}

/** `--mode users=upsert`, `--option enrollments.delimiter=;`, `--mapping users=map.json` as ImportParts, one per entity named. */
export function bundleParts(options: ImportBundleOptions): ImportPart[] {
  const parts = new Map<string, { mode?: WriteMode; options: string[]; mapping?: string }>();
  const part = (name: string, option: string) => {
    entityOf(name); // refuses an unknown entity, naming the accepted ones
    if (!name) throw usageError(`${option} needs an entity prefix`);
    let found = parts.get(name);
    if (!found) parts.set(name, (found = { options: [] }));
    return found;
  };
  for (const pair of options.mode ?? []) {
    const [entity, mode] = keyValue(pair, "--mode");
    const p = part(entity, "--mode");
    if (p.mode !== undefined) throw usageError(`--mode ${entity}=… is given twice`);
    p.mode = writeMode(mode);
  }
  for (const pair of options.option ?? []) {
    const dot = pair.indexOf(".");
    const eq = pair.indexOf("=");
    if (dot <= 0 || (eq >= 0 && eq < dot)) throw usageError(`--option takes entity.key=value in a bundle (--option enrollments.delimiter=';'), not ${JSON.stringify(pair)}`);
    part(pair.slice(0, dot), "--option").options.push(pair.slice(dot + 1));
  }
  for (const pair of options.mapping ?? []) {
    const [entity, file] = keyValue(pair, "--mapping");
    const p = part(entity, "--mapping");
    if (p.mapping !== undefined) throw usageError(`--mapping ${entity}=… is given twice`);
    p.mapping = file;
  }
  return [...parts].map(([name, p]) =>
    create(ImportPartSchema, {
      entity: entityOf(name),
      mode: p.mode ?? WriteMode.INSERT,
      mappings: p.mapping ? readMappingFile(p.mapping) : [],
      formatOptions: formatOptions(p.options),
    }),
  );
}

function bundleErrorLine(e: RowError): string {
  return `${e.part ? `${e.part} ` : ""}${rowErrorLine(e)}`;
}

function summaryLines(s: ImportBundleSummary, file: string): string[] {
  const c = s.counts;
  const totals = `${c?.read ?? 0n} read, ${c?.inserted ?? 0n} inserted, ${c?.updated ?? 0n} updated, ${c?.unchanged ?? 0n} unchanged, ${c?.skipped ?? 0n} skipped, ${c?.failed ?? 0n} rejected`;
  const what = s.dryRun ? "dry run of bundle" : s.strictAborted ? "strict bundle import aborted:" : s.state === JobState.FAILED ? "failed bundle import of" : "imported bundle";
  const tail = s.dryRun ? " (dry run: nothing written)" : s.strictAborted ? " (nothing written)" : "";
  const parts = s.parts.map(
    (p) => `  ${p.name} → ${entityName(p.entity)}: ${p.counts?.read ?? 0n} read, ${p.counts?.inserted ?? 0n} inserted, ${p.counts?.updated ?? 0n} updated, ${p.counts?.failed ?? 0n} rejected`,
  );
  return [...parts, `${what} ${file}: ${totals}${tail}${s.error && !s.strictAborted ? ` (${s.error})` : ""} — job ${s.jobId}`];
}

export async function runImportBundle(ctx: CommandContext, file: string, options: ImportBundleOptions): Promise<number> {
  const { client, out } = ctx;
  let stat;
  try {
    stat = statSync(file);
  } catch (error) {
    throw usageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
  if (!stat.isFile()) throw usageError(`${file} is not a file`);
  const header = create(ImportBundleHeaderSchema, {
    strict: options.strict,
    dryRun: options.dryRun === true,
    fileName: basename(file),
    parts: bundleParts(options),
  });
  const input = createReadStream(file, { highWaterMark: 64 * 1024 });
  async function* requests(): AsyncGenerator<ImportBundleRequest> {
    yield { $typeName: "dataexchange.transfer.v1.ImportBundleRequest", message: { case: "header", value: header } };
    for await (const chunk of input as AsyncIterable<Buffer>) yield { $typeName: "dataexchange.transfer.v1.ImportBundleRequest", message: { case: "chunk", value: chunk } };
  }
  let jobId: string | undefined;
  const interruption = cancelOnCtrlC(async () => {
    if (!jobId) return false;
    await client.cancelJob({ jobId }, { timeoutMs: 5000 });
    return true;
  });
  let summary: ImportBundleSummary | undefined;
  try {
    for await (const response of client.importBundle(requests(), { signal: interruption.signal })) {
      out.event(toJson(ImportBundleResponseSchema, response));
      const event = response.event;
      if (event.case === "started") jobId = event.value.jobId;
      else if (event.case === "rowError") out.note(bundleErrorLine(event.value));
      else if (event.case === "summary") summary = event.value;
    }
  } catch (error) {
    if (interruption.interrupted) throw new CliError(`cancelled: bundle import job ${jobId ?? "(not started)"} was cancelled`, ExitCode.interrupted);
    throw error;
  } finally {
    interruption.release();
    input.destroy();
  }
  if (!summary) throw new CliError(`the server ended bundle import job ${jobId ?? "?"} without a summary; see "dx job ${jobId ?? "<id>"}"`, ExitCode.nothingWritten);
  for (const line of summaryLines(summary, basename(file))) out.result(line);
  if (summary.strictAborted || summary.state !== JobState.SUCCEEDED) return ExitCode.nothingWritten;
  if ((summary.counts?.failed ?? 0n) > 0n) return ExitCode.rowsRejected;
  return ExitCode.done;
}
