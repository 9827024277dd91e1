/**
 * A plugin whose `read` and `write` run in the worker pool, with the same
 * shape as the plugin itself: same name, title, extensions, MIME type, shape,
 * audience and options schema (options are parsed on the main thread, so
 * settings errors still come before any byte, and only the parsed values
 * cross to the worker). The export and import pipelines use it exactly like
 * the in-thread plugin; nothing else in the service needs to know.
 */
import type { FormatPlugin, ReadItem, Row } from "../../../../formats/_sdk/index.js";
import { INPUT_WINDOW, OUTPUT_WINDOW, type PluginRef } from "./protocol.js";
import { runInWorker } from "./remote-job.js";
import type { WorkerPool } from "./worker-pool.js";

const workerBacked = new WeakSet<FormatPlugin>();

/** Whether `plugin` is a worker-backed proxy (for logs, tests and the bench). */
export function runsInWorkers(plugin: FormatPlugin): boolean {
  return workerBacked.has(plugin);
}

export interface WorkerPluginOptions {
  pool: WorkerPool;
  /** The plugin's entry module, which each worker imports. */
  entry: string;
  timeLimitMs: number;
}

export function workerBackedPlugin<O>(plugin: FormatPlugin<O>, { pool, entry, timeLimitMs }: WorkerPluginOptions): FormatPlugin<O> {
  const ref: PluginRef = { name: plugin.name, entry };
  const windows = { inputWindow: INPUT_WINDOW, outputWindow: OUTPUT_WINDOW };
  const proxy: FormatPlugin<O> = {
    name: plugin.name,
    title: plugin.title,
    extensions: plugin.extensions,
    mimeType: plugin.mimeType,
    shape: plugin.shape,
    audience: plugin.audience,
    options: plugin.options,
    ...(plugin.version !== undefined ? { version: plugin.version } : {}),
    ...(plugin.author !== undefined ? { author: plugin.author } : {}),
    ...(plugin.multiPart ? { multiPart: true } : {}),
  };
  if (plugin.write) {
    proxy.write = (rows, ctx) =>
      runInWorker(
        pool,
        { plugin: ref, ...windows, operation: "write", options: ctx.options, columns: ctx.columns, useLabels: ctx.useLabels, source: ctx.source, parts: ctx.parts },
        rows as AsyncIterable<Row[]>,
        {
          timeLimitMs,
        },
      ) as AsyncGenerator<Uint8Array>;
  }
  if (plugin.read) {
    proxy.read = (input, ctx) =>
      runInWorker(pool, { plugin: ref, ...windows, operation: "read", options: ctx.options, columns: ctx.columns, limits: ctx.limits }, input, { timeLimitMs }) as AsyncGenerator<ReadItem[]>;
  }
  workerBacked.add(proxy);
  return proxy;
}
