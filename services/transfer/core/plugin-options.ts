/**
 * A format plugin's options, checked against the schema the plugin declares:
 * each bad option named, and an option the plugin does not have refused
 * (a typo such as `delimitr` must not be ignored).
 */
import { TransferSettingsError } from "./errors.js";

type OptionsSchema = { safeParse(v: unknown): { success: boolean; data?: unknown; error?: { issues: { path: PropertyKey[]; message: string; code?: string; keys?: string[] }[] } } };

/**
 * The option names a plugin's schema declares: its object shape, looked up
 * duck-typed through the wrappers zod puts around one (`.refine`, `.default`,
 * a pipe), since a plugin may bring its own copy of zod. Undefined when the
 * schema is not an object schema we can see into.
 */
export function optionNames(schema: unknown): string[] | undefined {
  let current = schema as Record<string, unknown> | undefined;
  for (let depth = 0; depth < 8 && current && typeof current === "object"; depth++) {
    const shape = current.shape;
    if (shape && typeof shape === "object") return Object.keys(shape);
    const def = (current._zod as { def?: Record<string, unknown> } | undefined)?.def ?? (current._def as Record<string, unknown> | undefined);
    current = (def?.innerType ?? def?.in ?? def?.schema) as Record<string, unknown> | undefined;
  }
  return undefined;
}

/**
 * Parses plugin options with the plugin's schema, naming each bad option. An
 * option the schema does not declare is refused, naming it and listing the
 * declared ones — whether the plugin's schema is strict or not: a schema that
 * strips unknown keys would otherwise ignore `delimitr` without a word.
 */
export function parsePluginOptions(plugin: { name: string; options: OptionsSchema }, value: unknown): unknown {
  const given = value !== null && typeof value === "object" && !Array.isArray(value) ? Object.keys(value) : [];
  const declared = optionNames(plugin.options);
  const result = plugin.options.safeParse(value ?? {});
  const parsed = result.success && result.data !== null && typeof result.data === "object" ? (result.data as Record<string, unknown>) : undefined;
  // Undeclared: not in the schema's shape, or (a schema we cannot see into) dropped from what it parsed.
  const unknown = given.filter((key) => (declared ? !declared.includes(key) : parsed !== undefined && !Object.hasOwn(parsed, key)));
  if (unknown.length > 0) {
    const accepted = declared ?? Object.keys(plugin.options.safeParse({}).data ?? {});
    throw new TransferSettingsError(
      `unknown option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => JSON.stringify(k)).join(", ")} for the ${plugin.name} format; its options are ${accepted.join(", ") || "(none)"}`,
      unknown.map((key) => ({ setting: `pluginOptions.${key}`, reason: `is not an option of the ${plugin.name} format` })),
    );
  }
  if (result.success) return result.data;
  const issues = (result.error?.issues ?? []).map((i) => ({
    setting: ["pluginOptions", ...i.path.map(String)].join("."),
    reason: i.message,
  }));
  throw new TransferSettingsError(`invalid options for the ${plugin.name} format: ${issues.map((i) => `${i.setting} ${i.reason}`).join("; ")}`, issues);
}
