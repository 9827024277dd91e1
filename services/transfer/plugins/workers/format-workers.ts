/**
 * Puts the format workers between the service and its plugins: at start it
 * decides each plugin's mode (format-modes.ts), starts the pool when any
 * plugin runs in it, checks that those plugins load in a worker (a plugin
 * that loads on the main thread but not in a worker is reported like any
 * plugin that failed to load, and the service starts without it), and
 * replaces each of them by its worker-backed proxy. The rest of the service
 * keeps using `DiscoveredPlugins` as before.
 */
import type { FormatPlugin } from "../../../../formats/_sdk/index.js";
import type { FormatMode, FormatWorkersConfig } from "../../config/transfer-config.js";
import { defaultFormatsDir, type DiscoveredPlugins } from "../discover-plugins.js";
import { needsTypeScriptLoader } from "../typescript-loader.js";
import { formatModeOf } from "./format-modes.js";
import { workerBackedPlugin } from "./worker-plugin.js";
import { WorkerPool } from "./worker-pool.js";

export interface FormatWorkers {
  /** The plugins as the service uses them: proxies for those that run in workers. */
  plugins: DiscoveredPlugins;
  /** Each loaded plugin's mode. */
  modes: Map<string, FormatMode>;
  /** The pool, when any plugin runs in it. */
  pool: WorkerPool | undefined;
  /** Ends every worker thread. */
  close(): Promise<void>;
}

/** `maxWorkers` when the configuration does not set it. */
export function defaultMaxWorkers(poolSize: number): number {
  return Math.max(8, 4 * poolSize);
}

export async function startFormatWorkers(discovered: DiscoveredPlugins, config: FormatWorkersConfig): Promise<FormatWorkers> {
  const modes = new Map<string, FormatMode>();
  for (const name of discovered.plugins.keys()) modes.set(name, discovered.entries.has(name) ? formatModeOf(name, config) : "in-thread");
  const remote = [...modes].filter(([, mode]) => mode === "workers").map(([name]) => ({ name, entry: discovered.entries.get(name)! }));
  if (remote.length === 0) return { plugins: discovered, modes, pool: undefined, close: async () => undefined };

  const pool = new WorkerPool({
    size: config.poolSize,
    maxWorkers: config.maxWorkers ?? defaultMaxWorkers(config.poolSize),
    memoryLimitMb: config.memoryLimitMb,
    niceness: config.niceness,
    typeScriptPlugins: remote.some((plugin) => needsTypeScriptLoader(plugin.entry, defaultFormatsDir())),
  });
  try {
    const failed = new Map((await pool.probe(remote, config.timeLimitMs)).map((f) => [f.name, f.error]));
    const plugins = new Map<string, FormatPlugin>();
    const dirs = new Map<string, string>();
    const entries = new Map<string, string>();
    const failures = [...discovered.failures];
    for (const [name, plugin] of discovered.plugins) {
      const dir = discovered.dirs.get(name)!;
      const error = failed.get(name);
      if (error !== undefined) {
        failures.push({ name, dir, error: `cannot run in a format worker: ${error}` });
        modes.delete(name);
        continue;
      }
      const entry = discovered.entries.get(name);
      plugins.set(name, modes.get(name) === "workers" && entry ? workerBackedPlugin(plugin, { pool, entry, timeLimitMs: config.timeLimitMs }) : plugin);
      dirs.set(name, dir);
      if (entry) entries.set(name, entry);
    }
    return { plugins: { plugins, about: new Map([...discovered.about].filter(([name]) => plugins.has(name))), dirs, entries, failures }, modes, pool, close: () => pool.close() };
  } catch (error) {
    await pool.close();
    throw error;
  }
}
