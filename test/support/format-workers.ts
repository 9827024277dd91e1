/**
 * `DX_TEST_FORMAT_WORKERS=workers` (or `in-thread`) runs every transfer
 * service and every core pipeline test of the suite with its format plugins
 * in that mode, instead of each format's own default: `.ci/run` runs the
 * transfer tests once more with every plugin in a worker, so the
 * worker-backed proxy is held to everything the in-thread plugins are. A
 * test that sets a mode itself keeps it.
 */
import { formatWorkersSchema, type FormatMode, type TransferConfigInput } from "../../services/transfer/config/transfer-config.js";
import type { FormatPlugin } from "../../formats/_sdk/index.js";
import type { DiscoveredPlugins } from "../../services/transfer/plugins/index.js";
import { startFormatWorkers } from "../../services/transfer/plugins/workers/index.js";

function modeFromEnvironment(): FormatMode | undefined {
  const value = process.env.DX_TEST_FORMAT_WORKERS;
  if (value === undefined || value === "") return undefined;
  if (value !== "workers" && value !== "in-thread") throw new Error(`DX_TEST_FORMAT_WORKERS must be "workers" or "in-thread", not ${JSON.stringify(value)}`);
  return value;
}

/** The suite-wide mode, when one is set. */
export const testFormatMode = modeFromEnvironment();

/** `config` with the suite-wide mode, unless it names a mode itself. */
export function withTestFormatMode(config: TransferConfigInput = {}): TransferConfigInput {
  if (testFormatMode === undefined || config.formatWorkers?.mode !== undefined) return config;
  return { ...config, formatWorkers: { ...config.formatWorkers, mode: testFormatMode } };
}

/** The plugins as the core tests should call them: worker-backed proxies when the suite runs in workers. */
export async function pluginsForTests(discovered: DiscoveredPlugins): Promise<Map<string, FormatPlugin>> {
  if (testFormatMode !== "workers") return discovered.plugins;
  // The pool's idle threads do not keep the test process alive; it ends with the file's process.
  const workers = await startFormatWorkers(discovered, formatWorkersSchema.parse({ mode: "workers" }));
  return workers.plugins.plugins;
}
