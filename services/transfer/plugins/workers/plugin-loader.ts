/**
 * Loads a plugin inside a worker: the worker imports the plugin's entry
 * module itself (functions cannot cross threads) and checks it with the same
 * schema discovery uses on the main thread, so a module that loads on the
 * main thread but not in a worker is caught with a reason.
 */
import { pathToFileURL } from "node:url";
import type { FormatPlugin } from "../../../../formats/_sdk/index.js";
import { validatePlugin } from "../plugin-schema.js";
import type { PluginRef } from "./protocol.js";

const loaded = new Map<string, FormatPlugin>();

/** The plugin at `ref.entry`, imported once per worker. Throws an Error saying why it cannot be used. */
export async function loadPluginInWorker(ref: PluginRef): Promise<FormatPlugin> {
  const cached = loaded.get(ref.entry);
  if (cached) return cached;
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(ref.entry).href)) as { default?: unknown };
  } catch (error) {
    throw new Error(`failed to import ${ref.entry}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
  let checked: ReturnType<typeof validatePlugin>;
  try {
    checked = validatePlugin(mod.default, ref.name);
  } catch (error) {
    // An options schema whose parse({}) throws instead of failing lands here.
    checked = { ok: false, error: (error as Error)?.message ?? String(error) };
  }
  if (!checked.ok) throw new Error(`invalid plugin: ${checked.error}`);
  loaded.set(ref.entry, checked.plugin);
  return checked.plugin;
}
