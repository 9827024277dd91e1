/**
 * ListFormats' answer: every loaded plugin with its options as JSON Schema
 * (so a client can build a form or validate before sending), which build it
 * is and where it runs, and every plugin folder that failed to load with the
 * reason.
 */
import { create } from "@bufbuild/protobuf";
import { z } from "zod";
import type { FormatPlugin } from "../../../../formats/_sdk/index.js";
import { FormatFailureSchema, FormatSchema, ListFormatsResponseSchema, type ListFormatsResponse } from "../../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import type { DiscoveredPlugins } from "../../plugins/index.js";
import { runsInWorkers } from "../../plugins/workers/index.js";

/**
 * The options' JSON Schema, as the client sends them (`io: "input"`: fields
 * with defaults are optional). Parts JSON Schema cannot express (custom
 * checks, transforms) become "any" rather than failing the whole listing.
 */
export function optionsJsonSchema(plugin: FormatPlugin): string {
  try {
    return JSON.stringify(z.toJSONSchema(plugin.options as z.ZodType, { io: "input", unrepresentable: "any" }));
  } catch (error) {
    return JSON.stringify({ description: `the options schema cannot be shown as JSON Schema: ${(error as Error).message}` });
  }
}

export function listFormats(discovered: DiscoveredPlugins): ListFormatsResponse {
  return create(ListFormatsResponseSchema, {
    formats: [...discovered.plugins.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((p) =>
        create(FormatSchema, {
          name: p.name,
          title: p.title,
          extensions: [...p.extensions],
          mimeType: p.mimeType,
          canRead: typeof p.read === "function",
          canWrite: typeof p.write === "function",
          shape: p.shape,
          audience: p.audience,
          optionsJsonSchema: optionsJsonSchema(p),
          version: discovered.about.get(p.name)?.version ?? "",
          author: discovered.about.get(p.name)?.author ?? "",
          loadedFrom: discovered.about.get(p.name)?.loadedFrom ?? "",
          runsInWorker: runsInWorkers(p),
        }),
      ),
    failures: discovered.failures.map((f) => create(FormatFailureSchema, { name: f.name, error: f.error })),
  });
}
