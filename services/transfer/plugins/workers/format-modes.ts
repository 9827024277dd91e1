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
 * workers` (bench/sections/format-workers.ts; figures in bench/README.md):
 * in-thread, because a worker costs them throughput. CSV, JSON and NDJSON
 * are light — writing or parsing a row takes 1–3 µs — so moving rows across
 * the thread boundary (cloning them in, packing them out, a message per
 * batch each way) costs about as much as the conversion itself: one job ran
 * at 0.48–0.77× of its in-thread rate (1M rows, 3 rounds). What workers buy
 * for these formats — the main thread busy 1.7–4× less per row, and
 * isolation — is one setting away: `formatWorkers.mode` or
 * `formatWorkers.formats`.
 */
export const BUILT_IN_FORMAT_MODES: Readonly<Record<string, FormatMode>> = {
  csv: "in-thread",
  json: "in-thread",
  ndjson: "in-thread",
  // HTML is escaping and string building per cell, as light as CSV.
  html: "in-thread",
  // Markdown is the same: escaping per cell.
  markdown: "in-thread",
  // The spreadsheets are heavy: XML per cell, deflate/inflate, a spooled
  // ZIP. In a worker that work leaves the event loop and runs on the other
  // core (bench section 'workers', "XLSX export through the service").
  xlsx: "workers",
  ods: "workers",
};

export function formatModeOf(name: string, config: Pick<FormatWorkersConfig, "mode" | "formats">): FormatMode {
  return config.formats[name] ?? config.mode ?? BUILT_IN_FORMAT_MODES[name] ?? "workers";
}
