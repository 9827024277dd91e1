/**
 * A bundle export as one job: several entities in one file — one workbook
 * with a sheet per entity (XLSX, ODS: formats that declare `multiPart`), or
 * a ZIP of one file per entity in any other format (`users.csv`,
 * `courses.csv`, …, as Canvas takes them; core/export-bundle.ts).
 *
 * Each part is checked as a single export of its entity would be, before
 * the job exists: the caller needs `export:<entity>` for every part, and
 * personal fields follow the same rule (without `pii`, no fields chosen
 * means the fields that are not personal; a personal field named is
 * refused). The parts are read one after another, each with its own
 * filter, sort, fields, labels and limit; the job counts records per part
 * (`parts` on the job record and in the summary) and in all (`exported`),
 * hashes the whole file, and ends with one audit event whose filter names
 * every part.
 *
 * Not for bundles: the audit trail and deletions (a bundle is records), and
 * `changed_since` (an incremental bundle would need a high-water mark per
 * part's read; export each entity on its own for that).
 */
import { createHash } from "node:crypto";
import { toJsonString, type JsonObject, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { FilterSchema, type Filter, type StreamRecordsRequestSchema } from "../../../gen/dataexchange/records/v1/records_pb.js";
import type { EntitySpec } from "../../domain/index.js";
import { entityEnum } from "../../shared/records-wire/record-codec.js";
import { checkExport } from "../access-policy.js";
import type { Caller } from "../caller.js";
import { bundleContainer, bundleEntryName, runBundleExport, type BundlePartSettings } from "../core/export-bundle.js";
import { checkLabels } from "../core/export-columns.js";
import { exportColumns } from "../core/export-pipeline.js";
import { parsePluginOptions } from "../core/plugin-options.js";
import { InvalidTransferRequestError } from "../errors.js";
import { recordsFor } from "../records/records-for-caller.js";
import { recordBatches } from "../records/record-batches.js";
import type { TransferContext } from "../transfer-context.js";
import { requireFormat } from "../transfer-context.js";
import { EXPORT_CHUNK_BYTES, fieldsFor, READ_BATCH, RECORDS_READ_AHEAD, rechunk, type ExportEvent, type ExportPartHeader } from "./export-job.js";
import type { JobPart } from "./job-types.js";
import { runJob } from "./run-job.js";
import type { EndOptions } from "./running-job.js";

/** One entity of a bundle, as the adapters hand it over (the RPC's ExportPart, a download's `users.`-prefixed parameters). */
export interface BundlePartRequest {
  entity: EntitySpec;
  filter?: Filter;
  sort: { field: string; descending: boolean }[];
  /** Selection and order of fields; empty: every readable field (less personal ones without `pii`). */
  fields: string[];
  labels: Record<string, string>;
  /** Most records of this entity; 0: all. */
  limit: number;
}

export interface ExportBundleJobRequest {
  format: string;
  formatOptions: JsonObject;
  parts: BundlePartRequest[];
}

/** Most entities in one bundle: there are five, so this only stops nonsense. */
export const MAX_BUNDLE_PARTS = 16;

/** Everything about a bundle decided before the job exists: refusals here create no job. */
function planBundle(ctx: TransferContext, request: ExportBundleJobRequest, caller: Caller) {
  if (request.parts.length === 0) throw new InvalidTransferRequestError("a bundle export names at least one entity (parts)", "parts");
  if (request.parts.length > MAX_BUNDLE_PARTS) throw new InvalidTransferRequestError(`a bundle export names at most ${MAX_BUNDLE_PARTS} entities`, "parts");
  const seen = new Set<string>();
  for (const [i, part] of request.parts.entries()) {
    if (seen.has(part.entity.name)) throw new InvalidTransferRequestError(`the bundle names ${part.entity.name} twice (parts[${i}])`, `parts[${i}].entity`);
    seen.add(part.entity.name);
    // The RPC's method rule checks this too; the HTTP route and any other caller meet it here.
    const denied = caller.principal ? checkExport(caller.principal, "records", part.entity.name) : undefined;
    if (denied) throw new ConnectError(`permission denied: ${denied}`, Code.PermissionDenied);
  }
  const plugin = requireFormat(ctx, request.format, "write");
  parsePluginOptions(plugin, request.formatOptions);
  const container = bundleContainer(plugin);
  const parts = request.parts.map((part) => {
    const fields = fieldsFor({ source: "records", spec: part.entity, sort: [] }, part.fields, caller);
    const labels = Object.keys(part.labels).length > 0 ? { ...part.labels } : undefined;
    const settings = { plugin, entity: part.entity, fields, labels, nestedDelimiter: ctx.config.nestedDelimiter };
    checkLabels(settings);
    const name = container === "workbook" ? part.entity.name : bundleEntryName(part.entity.name, plugin);
    return { request: part, fields, labels, header: { entity: part.entity.name, name, columns: exportColumns(settings) } satisfies ExportPartHeader };
  });
  return { plugin, container, parts };
}

/**
 * What a bundle export would answer in its header, checked as the export
 * checks it, without a job: for `HEAD /export/{format}?bundle=…`.
 */
export function describeBundleExport(ctx: TransferContext, request: ExportBundleJobRequest, caller: Caller): { fileName: string; mimeType: string; parts: ExportPartHeader[] } {
  const plan = planBundle(ctx, request, caller);
  return {
    fileName: bundleFileName(plan.plugin.extensions[0] ?? plan.plugin.name, plan.container, new Date()),
    mimeType: bundleMimeType(plan.plugin.mimeType, plan.container),
    parts: plan.parts.map((p) => p.header),
  };
}

/** `bundle-20240131-235959.zip` (a ZIP of files) or `bundle-20240131-235959.xlsx` (a workbook). */
function bundleFileName(extension: string, container: "workbook" | "zip", at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `bundle-${stamp}.${container === "zip" ? "zip" : extension}`;
}

function bundleMimeType(mimeType: string, container: "workbook" | "zip"): string {
  return container === "zip" ? "application/zip" : mimeType;
}

/** One bundle export job (span `transfer.export_bundle`), its events those of a single export, with `parts` in header and summary. */
export function exportBundleJob(ctx: TransferContext, request: ExportBundleJobRequest, caller: Caller, callerSignal?: AbortSignal): AsyncGenerator<ExportEvent> {
  return runJob(ctx, caller, callerSignal, { span: "transfer.export_bundle", attributes: { "dx.format": request.format, "dx.subject": caller.subject } }, () => {
    const plan = planBundle(ctx, request, caller);
    const { plugin, container, parts } = plan;
    // Each part as a single export's job would keep it; the audit event names them all (job-audit.ts).
    const recordParts: JobPart[] = parts.map((p) => ({
      entity: p.request.entity.name,
      name: p.header.name,
      exported: 0,
      ...(p.request.filter ? { filter: toJsonString(FilterSchema, p.request.filter) } : {}),
      ...(p.request.fields.length > 0 ? { fields: [...p.request.fields] } : {}),
      ...(p.request.limit > 0 ? { limit: p.request.limit } : {}),
    }));
    return {
      record: {
        kind: "export",
        subject: caller.subject,
        source: "records",
        format: plugin.name,
        formatOptions: JSON.stringify(request.formatOptions),
        parts: recordParts,
      },
      start: (run) => {
        const job = run.job;
        const finished = new AbortController();
        const signal = AbortSignal.any([run.signal, finished.signal]);
        const records = recordsFor(ctx.records, caller, job._id);
        const hash = createHash("sha256");
        let bytes = 0;
        let counts = parts.map(() => 0);
        const total = () => counts.reduce((a, b) => a + b, 0);
        const jobParts = (): JobPart[] => recordParts.map((p, i) => ({ ...p, exported: counts[i]! }));
        const sofar = (): EndOptions => ({ base: { bytes, sha256: bytes > 0 ? hash.copy().digest("hex") : undefined, counts: { exported: total() }, parts: jobParts() } });
        run.follow(() => ({ counts: { exported: total() }, bytes }));
        const settings: BundlePartSettings[] = parts.map((p) => ({
          entity: p.request.entity,
          fields: p.fields,
          labels: p.labels,
          source: { entity: p.request.entity.name, ...(p.request.filter ? { filter: toJsonString(FilterSchema, p.request.filter) } : {}) },
          batches: () => partBatches(p.request, p.fields),
        }));
        async function* partBatches(part: BundlePartRequest, fields: string[] | undefined): AsyncGenerator<Record<string, unknown>[]> {
          const streamRequest: MessageInitShape<typeof StreamRecordsRequestSchema> = {
            entity: entityEnum(part.entity.name),
            filter: part.filter,
            // Only top-level keys go to the records service; nested paths are the core's.
            fields: [...new Set((fields ?? []).map((f) => f.split(".")[0]!))],
            sort: part.sort,
            limit: BigInt(part.limit),
            batchSize: READ_BATCH,
          };
          yield* recordBatches(records, part.entity, streamRequest, RECORDS_READ_AHEAD, signal);
        }
        async function* events(): AsyncGenerator<ExportEvent> {
          const first = parts[0]!.header;
          yield {
            kind: "header",
            jobId: job._id,
            fileName: bundleFileName(plugin.extensions[0] ?? plugin.name, container, job.createdAt),
            mimeType: bundleMimeType(plugin.mimeType, container),
            // A single export's columns are the file's; a bundle's are per part. The first part's here, for clients that read only these.
            columns: first.columns,
            parts: parts.map((p) => p.header),
          };
          const out = runBundleExport({
            plugin,
            pluginOptions: request.formatOptions,
            nestedDelimiter: ctx.config.nestedDelimiter,
            parts: settings,
            signal,
            onProgress: (p) => (counts = p.records),
          });
          let reported = -1;
          for await (const chunk of rechunk(out, EXPORT_CHUNK_BYTES)) {
            hash.update(chunk);
            bytes += chunk.byteLength;
            yield { kind: "chunk", bytes: chunk };
            if (total() !== reported) {
              reported = total();
              run.progress();
              yield { kind: "progress", records: reported, bytes, estimatedTotal: 0 };
            }
          }
          const sha256 = hash.copy().digest("hex");
          await run.end({ state: "succeeded" }, sofar());
          yield {
            kind: "summary",
            jobId: job._id,
            records: total(),
            bytes,
            sha256,
            durationMs: Date.now() - job.createdAt.getTime(),
            parts: parts.map((p, i) => ({ entity: p.header.entity, name: p.header.name, records: counts[i]! })),
          };
        }
        return { events: events(), sofar, close: () => finished.abort(new Error("the export ended")) };
      },
    };
  });
}
