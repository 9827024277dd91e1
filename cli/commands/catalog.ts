/**
 * What the server can do: `dx formats` (every format plugin, what it reads
 * and writes), `dx entities` and `dx describe <entity>` (the fields with
 * their labels, types, key parts and allowed values) — all from the server,
 * so plugins and fields added there show up here without a new CLI.
 */
import { toJson } from "@bufbuild/protobuf";
import { DescribeEntityResponseSchema, FieldType, type DescribeEntityResponse } from "../../gen/dataexchange/records/v1/records_pb.js";
import { FormatSchema } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { ENTITY_NAMES, entityOf } from "../arguments.js";
import type { CommandContext } from "../context.js";
import { ExitCode } from "../exit-codes.js";
import { table } from "../output.js";

export async function runFormats(ctx: CommandContext): Promise<number> {
  const { formats, failures } = await ctx.client.listFormats({});
  for (const f of formats) ctx.out.event(toJson(FormatSchema, f));
  const rows = formats.map((f) => [f.name, [f.canRead ? "import" : "", f.canWrite ? "export" : ""].filter(Boolean).join("+"), f.extensions.map((e) => `.${e.replace(/^\./, "")}`).join(" "), f.title]);
  ctx.out.result(table([["FORMAT", "DOES", "EXTENSIONS", "TITLE"], ...rows]));
  for (const failure of failures) ctx.out.final(`format ${failure.name} failed to load: ${failure.error}`);
  return ExitCode.done;
}

async function describe(ctx: CommandContext, name: string): Promise<DescribeEntityResponse> {
  const { description } = await ctx.client.describeEntity({ entity: entityOf(name) });
  if (!description) throw new Error(`the server described no entity ${name}`);
  return description;
}

export async function runEntities(ctx: CommandContext): Promise<number> {
  const rows: string[][] = [];
  for (const name of ENTITY_NAMES) {
    const d = await describe(ctx, name);
    ctx.out.event(toJson(DescribeEntityResponseSchema, d));
    rows.push([d.name, d.label, d.keyFields.join(" + "), String(d.fields.length), d.appendOnly ? "append-only" : ""]);
  }
  ctx.out.result(table([["ENTITY", "LABEL", "KEY", "FIELDS", ""], ...rows]));
  return ExitCode.done;
}

function typeName(type: FieldType): string {
  return (FieldType[type] ?? "unspecified").toLowerCase().replace(/_/g, " ");
}

export async function runDescribe(ctx: CommandContext, name: string): Promise<number> {
  const d = await describe(ctx, name);
  ctx.out.event(toJson(DescribeEntityResponseSchema, d));
  const rows = d.fields.map((f) => {
    const notes = [f.keyPart ? "key" : "", f.required ? "required" : "", f.writeOnly ? "write-only" : "", f.readOnly ? "read-only" : "", f.personal ? "personal" : ""].filter(Boolean).join(", ");
    return [f.key, f.label, typeName(f.type), notes, f.allowedValues.join(" | ")];
  });
  ctx.out.result(
    `${d.label} (${d.name}): key ${d.keyFields.join(" + ")}${d.timeFields.length ? `; time fields ${d.timeFields.join(", ")} (--since/--until)` : ""}${d.appendOnly ? "; append-only" : ""}\n`,
  );
  ctx.out.result(table([["FIELD", "LABEL", "TYPE", "", "ALLOWED VALUES"], ...rows]));
  return ExitCode.done;
}
