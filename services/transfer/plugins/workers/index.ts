/** Format workers: plugins' read/write off the service's event loop (README: "Format workers"). */
export { startFormatWorkers, defaultMaxWorkers, type FormatWorkers } from "./format-workers.js";
export { BUILT_IN_FORMAT_MODES, formatModeOf } from "./format-modes.js";
export { FormatPluginError, type PluginFailureKind } from "../plugin-errors.js";
export { WorkerPool, WorkerPoolClosedError, type WorkerPoolOptions, type WorkerPoolStats } from "./worker-pool.js";
export { runsInWorkers, workerBackedPlugin } from "./worker-plugin.js";
