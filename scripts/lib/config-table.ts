/**
 * Builds the transfer service's configuration table (markdown) from its zod
 * schema and environment overrides, and puts it between the README's markers.
 */
import { z } from "zod";
import { ENV_OVERRIDES, transferConfigSchema } from "../../services/transfer/config/transfer-config.js";

export const TABLE_START = "<!-- config-table:start (generated from services/transfer/config/transfer-config.ts by `npm run docs:config`; edit the schema, not this table) -->";
export const TABLE_END = "<!-- config-table:end -->";

interface JsonSchemaNode {
  type?: string;
  description?: string;
  defaultText?: string;
  properties?: Record<string, JsonSchemaNode>;
}

/** The markdown table: one row per key (nested settings as `group.key`), in the schema's order. */
export function configTable(): string {
  const root = z.toJSONSchema(transferConfigSchema, { io: "input", unrepresentable: "any" }) as JsonSchemaNode;
  const envOf = new Map(Object.entries(ENV_OVERRIDES).map(([variable, key]) => [key as string, variable]));
  // The defaults as the schema fills them in (computed ones, such as the pool size, say how with `defaultText`).
  const defaults = transferConfigSchema.parse({}) as Record<string, unknown>;
  const rows: string[] = ["| key | environment | default | meaning |", "|---|---|---|---|"];
  const add = (key: string, node: JsonSchemaNode) => {
    if (!node.description) throw new Error(`config key ${key} has no description in the schema (.describe)`);
    const env = envOf.get(key);
    const [top, inner] = key.split(".") as [string, string | undefined];
    const value = inner === undefined ? defaults[top] : (defaults[top] as Record<string, unknown>)[inner];
    rows.push(`| \`${key}\` | ${env ? `\`${env}\`` : "—"} | ${defaultOf(node, value)} | ${node.description} |`);
  };
  for (const [key, node] of Object.entries(root.properties ?? {})) {
    if (node.type === "object" && node.properties) {
      for (const [inner, child] of Object.entries(node.properties)) add(`${key}.${inner}`, child);
    } else add(key, node);
  }
  const unknownEnv = [...envOf.keys()].filter((key) => !rows.some((row) => row.startsWith(`| \`${key}\` `)));
  if (unknownEnv.length > 0) throw new Error(`environment overrides name keys the schema does not have: ${unknownEnv.join(", ")}`);
  return rows.join("\n");
}

function defaultOf(node: JsonSchemaNode, value: unknown): string {
  if (node.defaultText !== undefined) return node.defaultText;
  if (value === undefined) return "—";
  return `\`${typeof value === "string" ? value : JSON.stringify(value)}\``;
}

/** `readme` with the text between the markers replaced by `table`; throws when the markers are missing. */
export function replaceConfigTable(readme: string, table: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error("README.md has no configuration table markers (config-table:start / config-table:end)");
  return `${readme.slice(0, start + TABLE_START.length)}\n${table}\n${readme.slice(end)}`;
}
