/**
 * An import's mapping from the command line: `--map source=field[:transform…]`
 * (repeatable) and/or `--mapping mapping.json` (the JSON array `POST /import`
 * takes as its `mapping` field), checked strictly — a misspelt key or an
 * unknown transform is refused, not dropped.
 *
 *   --map "E-mail=email:trim:lowercase"
 *   --map "Joined=createdAt:date(DD/MM/YYYY HH:mm)"
 *   --map "Role=role:default(student)"
 *   --map "=username:template({First}.{Last})"   (no source column)
 *   --map "Notes=-"                              (the column is left out on purpose)
 *   --map "*=-"                                  (every other unknown column too)
 */
import { create } from "@bufbuild/protobuf";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { FieldMappingSchema, TransformSchema, type FieldMapping, type Transform } from "../gen/dataexchange/transfer/v1/transfer_pb.js";
import { checkJsonText, duplicateKeyReason } from "../formats/_sdk/json-text.js";
import { usageError } from "./arguments.js";

const transformSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("trim") }),
  z.strictObject({ kind: z.literal("lowercase") }),
  z.strictObject({ kind: z.literal("date"), format: z.string().min(1) }),
  z.strictObject({ kind: z.literal("default"), value: z.string() }),
  z.strictObject({ kind: z.literal("template"), value: z.string().min(1) }),
]);
type TransformJson = z.infer<typeof transformSchema>;

const mappingFileSchema = z.array(
  z.strictObject({ source: z.string().optional(), field: z.string().min(1).optional(), ignore: z.boolean().optional(), transforms: z.array(transformSchema).optional() }),
);

function transformMessage(t: TransformJson): Transform {
  switch (t.kind) {
    case "trim":
      return create(TransformSchema, { kind: { case: "trim", value: {} } });
    case "lowercase":
      return create(TransformSchema, { kind: { case: "lowercase", value: {} } });
    case "date":
      return create(TransformSchema, { kind: { case: "date", value: { format: t.format } } });
    case "default":
      return create(TransformSchema, { kind: { case: "default", value: { value: t.value } } });
    case "template":
      return create(TransformSchema, { kind: { case: "template", value: { value: t.value } } });
  }
}

/** Splits at `:` outside parentheses: `date(HH:mm)` stays whole. */
function splitTransforms(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth = Math.max(0, depth - 1);
    if (ch === ":" && depth === 0) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

function parseTransform(text: string, map: string): TransformJson {
  const match = /^([a-z]+)(?:\((.*)\))?$/s.exec(text.trim());
  const kind = match?.[1];
  const argument = match?.[2];
  const bad = (why: string) => usageError(`--map ${JSON.stringify(map)}: ${why}; transforms: trim, lowercase, date(FORMAT), default(VALUE), template(TEXT)`);
  if (!kind) throw bad(`${JSON.stringify(text)} is not a transform`);
  if ((kind === "trim" || kind === "lowercase") && argument === undefined) return { kind };
  if (kind === "date" && argument) return { kind, format: argument };
  if (kind === "default" && argument !== undefined) return { kind, value: argument };
  if (kind === "template" && argument) return { kind, value: argument };
  throw bad(["trim", "lowercase", "date", "default", "template"].includes(kind) ? `${JSON.stringify(text)} has the wrong argument` : `unknown transform ${JSON.stringify(kind)}`);
}

/** One `--map source=field[:transform…]`. */
export function parseMap(text: string): FieldMapping {
  const at = text.indexOf("=");
  if (at < 0) throw usageError(`--map takes source=field[:transform…], not ${JSON.stringify(text)}`);
  const source = text.slice(0, at);
  const [field = "", ...transforms] = splitTransforms(text.slice(at + 1));
  if (field.trim() === "-") {
    if (transforms.length) throw usageError(`--map ${JSON.stringify(text)}: an ignored column takes no transforms`);
    return create(FieldMappingSchema, { source, ignore: true });
  }
  if (!field.trim()) throw usageError(`--map ${JSON.stringify(text)}: name the field after "=" (or "-" to leave the column out)`);
  return create(FieldMappingSchema, { source, field: field.trim(), transforms: transforms.map((t) => transformMessage(parseTransform(t, text))) });
}

/** A mapping file's entries. */
export function readMappingFile(path: string): FieldMapping[] {
  let parsed: unknown;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
    parsed = JSON.parse(text);
  } catch (error) {
    throw usageError(`--mapping ${path}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
  // JSON.parse keeps the last of a key given twice ({"field": "email", "field": "username"}): which was meant is not ours to guess.
  const twice = checkJsonText(text, parsed)?.duplicateKey;
  if (twice) throw usageError(`--mapping ${path}: ${duplicateKeyReason(twice.path)}`);
  const checked = mappingFileSchema.safeParse(parsed);
  if (!checked.success) throw usageError(`--mapping ${path}: ${checked.error.issues.map((i) => `[${i.path.join(".")}] ${i.message}`).join("; ")}`);
  return checked.data.map((m) => create(FieldMappingSchema, { source: m.source ?? "", field: m.field ?? "", ignore: m.ignore ?? false, transforms: (m.transforms ?? []).map(transformMessage) }));
}
