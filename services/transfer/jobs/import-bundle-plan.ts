/**
 * A bundle import's request and its plan: each part the file holds with
 * the settings it will be read with, checked before the job exists — a
 * part's entity the caller may not import, settings for an entity the file
 * does not hold, format options or a mapping the part's format or entity
 * refuses, a mode an append-only entity does not take. A refusal here
 * leaves no job and nothing written (jobs/import-bundle-job.ts runs the plan).
 */
import type { JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { EntityName, RowCounts, WriteMode } from "../../domain/index.js";
import { checkImport } from "../access-policy.js";
import type { Caller } from "../caller.js";
import type { BundleArchive, BundlePart } from "../core/bundle-archive.js";
import { TransferSettingsError } from "../core/errors.js";
import type { FieldMapping } from "../core/import-pipeline.js";
import { compileMapping } from "../core/mapping-plan.js";
import { parsePluginOptions } from "../core/plugin-options.js";
import { InvalidTransferRequestError } from "../errors.js";
import type { JobPart } from "./job-types.js";

/** One entity's settings in a bundle import: what a single import of it would take. */
export interface BundlePartImport {
  mode: WriteMode;
  mapping?: FieldMapping[];
  /** The format's options for this part (CSV delimiter, header, …; a workbook's `sheet` is the part's own). */
  formatOptions: JsonObject;
}

export interface ImportBundleJobRequest {
  /** Undefined takes the configured default. */
  strict?: boolean;
  dryRun: boolean;
  fileName?: string;
  /** The client's name for its request (POST /import's `X-Request-Id`), kept on the job. */
  requestId?: string;
  /** Per entity; an entity without settings is inserted with its columns matched by key or label. */
  parts: Partial<Record<EntityName, BundlePartImport>>;
}

/** The default settings of a part the request says nothing about. */
const DEFAULT_PART: BundlePartImport = { mode: "insert", formatOptions: {} };

export interface PlannedPart {
  part: BundlePart;
  settings: BundlePartImport;
}

export function jobPart(p: PlannedPart, counts: RowCounts): JobPart {
  return {
    entity: p.part.entity.name,
    name: p.part.name,
    exported: 0,
    mode: p.settings.mode,
    counts,
    format: p.part.plugin.name,
    formatOptions: JSON.stringify(optionsOf(p.part, p.settings)),
  };
}

/** Each part with its settings, checked: refusals here leave no job and nothing written. */
export function planParts(archive: BundleArchive, request: ImportBundleJobRequest, caller: Caller): PlannedPart[] {
  const held = new Set<string>(archive.parts.map((p) => p.entity.name));
  for (const entity of Object.keys(request.parts)) {
    if (!held.has(entity))
      throw new InvalidTransferRequestError(`settings are given for ${entity}, which the bundle does not hold (it holds ${archive.parts.map((p) => p.name).join(", ")})`, `parts.${entity}`);
  }
  return archive.parts.map((part) => {
    const denied = caller.principal ? checkImport(caller.principal, part.entity.name, request.dryRun) : undefined;
    if (denied) throw new ConnectError(`permission denied: the bundle's part ${JSON.stringify(part.name)}: ${denied}`, Code.PermissionDenied);
    const settings = request.parts[part.entity.name] ?? DEFAULT_PART;
    if (part.sheet !== undefined && Object.hasOwn(settings.formatOptions, "sheet"))
      throw new InvalidTransferRequestError(
        `${part.entity.name}: the sheet option is not for a bundle: each entity is read from its own sheet (${JSON.stringify(part.sheet)})`,
        `parts.${part.entity.name}.options.sheet`,
      );
    try {
      parsePluginOptions(part.plugin, optionsOf(part, settings));
      // The mapping's own mistakes (an unknown or read-only field, a bad transform), before any part is read.
      if (settings.mapping) compileMapping(part.entity, settings.mapping);
    } catch (error) {
      if (error instanceof TransferSettingsError) throw new TransferSettingsError(`${part.name}: ${error.message}`, error.issues, { cause: error });
      throw error;
    }
    if (part.entity.appendOnly && settings.mode !== "insert")
      throw new InvalidTransferRequestError(`${part.entity.name} is append-only: it can only be imported in insert mode, not ${settings.mode}`, `parts.${part.entity.name}.mode`);
    return { part, settings };
  });
}

/** The part's format options as its reader gets them: a workbook part's sheet is its own. */
export function optionsOf(part: BundlePart, settings: BundlePartImport): JsonObject {
  return part.sheet !== undefined ? { ...settings.formatOptions, sheet: part.sheet } : settings.formatOptions;
}
