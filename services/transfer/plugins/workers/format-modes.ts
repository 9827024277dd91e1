/**
 * Which formats run in the worker pool and which in-thread.
 *
 * Precedence: `formatWorkers.formats[name]`, then `formatWorkers.mode`, then
 * the format's built-in default below, then "workers". Plugins from extra
 * plugin folders (not shipped here, not measured, not reviewed) therefore run
 * isolated unless an operator says otherwise.
 */
import type { FormatMode, FormatWorkersConfig } from "../../config/transfer-config.js";

/**
 * Defaults for the shipped formats, chosen from `npm run bench -- --only
 * workers` (bench/sections/format-workers.ts; figures in bench/README.md).
 */
export const BUILT_IN_FORMAT_MODES: Readonly<Record<string, FormatMode>> = {
  csv: "workers",
  json: "workers",
  ndjson: "workers",
};

export function formatModeOf(name: string, config: Pick<FormatWorkersConfig, "mode" | "formats">): FormatMode {
  return config.formats[name] ?? config.mode ?? BUILT_IN_FORMAT_MODES[name] ?? "workers";
}
