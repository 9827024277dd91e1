/**
 * ImportBundle on the wire: its header as a bundle import job request (each
 * part's entity, mode, mappings and options, every entity at most once),
 * and the job's events as ImportBundleResponse messages.
 */
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { ImportBundleResponseSchema, type ImportBundleHeader, type ImportBundleResponse } from "../../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import type { EntityName, RowCounts } from "../../../domain/index.js";
import { entityEnum } from "../../../shared/records-wire/record-codec.js";
import { InvalidTransferRequestError } from "../../errors.js";
import type { BundlePartImport, ImportBundleEvent, ImportBundleJobRequest } from "../../jobs/import-bundle-job.js";
import { requireEntity } from "../../transfer-context.js";
import { JOB_STATES, plainMode, rowErrorMessage } from "./job-codec.js";
import { mappingOf } from "./request-codec.js";
import { writeModeEnum } from "../../../shared/records-wire/write-mode-codec.js";

export function importBundleRequestOf(header: ImportBundleHeader): ImportBundleJobRequest {
  const parts: Partial<Record<EntityName, BundlePartImport>> = {};
  for (const [i, part] of header.parts.entries()) {
    const entity = requireEntity(part.entity, `header.parts[${i}].entity`);
    if (parts[entity.name]) throw new InvalidTransferRequestError(`header.parts names ${entity.name} twice (parts[${i}])`, `header.parts[${i}].entity`);
    const mode = plainMode(part.mode);
    if (!mode) throw new InvalidTransferRequestError(`header.parts[${i}].mode ${part.mode} is not a write mode`, `header.parts[${i}].mode`);
    parts[entity.name] = {
      mode,
      mapping: part.mappings.length > 0 ? part.mappings.map(mappingOf) : undefined,
      formatOptions: part.formatOptions ?? {},
    };
  }
  return { strict: header.strict, dryRun: header.dryRun, fileName: header.fileName, parts };
}

function countsMessage(counts: RowCounts) {
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, BigInt(v)]));
}

export function importBundleMessage(event: ImportBundleEvent): ImportBundleResponse {
  switch (event.kind) {
    case "started":
      return create(ImportBundleResponseSchema, { event: { case: "started", value: { jobId: event.jobId } } });
    case "progress":
      return create(ImportBundleResponseSchema, { event: { case: "progress", value: { rowsRead: BigInt(event.rowsRead), bytesRead: BigInt(event.bytesRead), phase: event.phase, part: event.part } } });
    case "row_error":
      return create(ImportBundleResponseSchema, { event: { case: "rowError", value: rowErrorMessage(event) } });
    case "summary":
      return create(ImportBundleResponseSchema, {
        event: {
          case: "summary",
          value: {
            jobId: event.jobId,
            counts: countsMessage({ read: event.read, inserted: event.inserted, updated: event.updated, unchanged: event.unchanged, skipped: event.skipped, failed: event.failed }),
            sha256: event.sha256,
            bytes: BigInt(event.bytes),
            strictAborted: event.strictAborted,
            dryRun: event.dryRun,
            state: JOB_STATES[event.state],
            duration: durationFromMs(event.durationMs),
            container: event.container,
            parts: event.parts.map((p) => ({ entity: entityEnum(p.entity), name: p.name, format: p.format, mode: writeModeEnum(p.mode), counts: countsMessage(p.counts) })),
            error: event.error ?? "",
          },
        },
      });
  }
}
