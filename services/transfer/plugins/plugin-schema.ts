/**
 * What a plugin module's default export must look like before the service
 * trusts it. Checked at load time so a malformed plugin is reported by name
 * at start-up instead of failing an export hours later.
 */
import { z } from "zod";
import type { FormatPlugin } from "../../../formats/_sdk/index.js";

const fn = (what: string) => z.custom<(...args: never[]) => unknown>((v) => typeof v === "function", { message: `${what} must be a function` });

/** A zod schema for the options schema: duck-typed, since a plugin may use its own copy of zod. */
const optionsSchema = z.custom<z.ZodType>(
  (v) => typeof v === "object" && v !== null && typeof (v as { safeParse?: unknown }).safeParse === "function" && typeof (v as { parse?: unknown }).parse === "function",
  { message: "options must be a zod schema (with parse and safeParse)" },
);

export const pluginSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "name must be lowercase letters, digits and dashes"),
    title: z.string().min(1),
    extensions: z.array(z.string().regex(/^[a-z0-9]+(\.[a-z0-9]+)*$/i, "extensions are given without the dot")).min(1),
    mimeType: z.string().regex(/^[\w.+-]+\/[\w.+-]+$/, "mimeType must look like type/subtype"),
    shape: z.enum(["tabular", "document"]),
    audience: z.enum(["human", "machine"]),
    options: optionsSchema,
    version: z.string().min(1).optional(),
    author: z.string().min(1).optional(),
    read: fn("read").optional(),
    write: fn("write").optional(),
    multiPart: z.boolean().optional(),
  })
  .refine((p) => p.read !== undefined || p.write !== undefined, { message: "a plugin needs read, write or both" })
  .refine((p) => p.options.safeParse({}).success, { message: "options.parse({}) must succeed and yield the defaults", path: ["options"] });

/** Validates a module's default export against the folder it came from. */
export function validatePlugin(value: unknown, folder: string): { ok: true; plugin: FormatPlugin } | { ok: false; error: string } {
  if (value === undefined) return { ok: false, error: "the module has no default export" };
  const result = pluginSchema.safeParse(value);
  if (!result.success) {
    return { ok: false, error: result.error.issues.map((i) => (i.path.length > 0 ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ") };
  }
  if (result.data.name !== folder) {
    return { ok: false, error: `name ${JSON.stringify(result.data.name)} does not match its folder ${JSON.stringify(folder)}` };
  }
  return { ok: true, plugin: value as FormatPlugin };
}
