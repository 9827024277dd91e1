/**
 * `DX_TEST_FORMAT_WORKERS=workers` (or `in-thread`) runs every transfer
 * service and every core pipeline test of the suite with its format plugins
 * in that mode, instead of each format's own default: `.ci/run` runs the
 * transfer tests once more with every plugin in a worker, so the
 * worker-backed proxy is held to everything the in-thread plugins are. A
 * test that sets a mode itself keeps it. Worker threads run at the service's
 * own priority in tests (TEST_NICENESS).
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

/**
 * The format worker threads' niceness in tests, unless a test sets one: 0,
 * not the product's 10. CI runs two suites side by side on two cores; a
 * worker thread niced below the other suite's processes waits on them (about
 * a tenth of a core each), and the run would measure the scheduler. What
 * niceness does is tested on its own (test/transfer/workers/worker-priority.test.ts).
 */
const TEST_NICENESS = 0;

/** `config` with the suite-wide mode (unless it names a mode itself) and the tests' niceness (unless it names one). */
export function withTestFormatWorkers(config: TransferConfigInput = {}): TransferConfigInput {
  const formatWorkers = { ...config.formatWorkers };
  if (testFormatMode !== undefined && formatWorkers.mode === undefined) formatWorkers.mode = testFormatMode;
  formatWorkers.niceness ??= TEST_NICENESS;
  return { ...config, formatWorkers };
}

/** The plugins as the core tests should call them: worker-backed proxies when the suite runs in workers. */
export async function pluginsForTests(discovered: DiscoveredPlugins): Promise<Map<string, FormatPlugin>> {
  if (testFormatMode !== "workers") return discovered.plugins;
  // The pool's idle threads do not keep the test process alive; it ends with the file's process.
  const workers = await startFormatWorkers(discovered, formatWorkersSchema.parse({ mode: "workers", niceness: TEST_NICENESS }));
  return workers.plugins.plugins;
}
