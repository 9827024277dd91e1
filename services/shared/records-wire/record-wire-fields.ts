/**
 * What record-bytes.ts (writing) and record-from-bytes.ts (reading) both need
 * to know of an entity's wire message without protobuf-es's reflection at run
 * time: which message an entity's `EntityRecord` case holds, and how each of
 * its fields is carried. Read once per entity when those modules load.
 */
import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { EntityRecordSchema } from "../../../gen/dataexchange/records/v1/records_pb.js";
import type { EntitySpec } from "../../domain/index.js";
import { RECORD_CASE } from "./record-codec.js";

/** How a field is carried: the common shapes both fast paths handle, or `complex` (the reflective codec's). */
export type WireFieldKind = "string" | "double" | "bool" | "timestamp" | "strings" | "complex";

export function wireFieldKind(field: DescField): WireFieldKind {
  if (field.fieldKind === "scalar") {
    if (field.scalar === 9 /* STRING */) return "string";
    if (field.scalar === 1 /* DOUBLE */) return "double";
    if (field.scalar === 8 /* BOOL */) return "bool";
    return "complex";
  }
  if (field.fieldKind === "message" && field.message.typeName === "google.protobuf.Timestamp") return "timestamp";
  if (field.fieldKind === "list" && field.listKind === "scalar" && field.scalar === 9) return "strings";
  return "complex";
}

/** The `EntityRecord` case of `spec`'s entity (its field number) and the message it holds. */
export function entityCase(spec: EntitySpec): { number: number; message: DescMessage } {
  const oneofCase = EntityRecordSchema.fields.find((f) => f.localName === RECORD_CASE[spec.name])!;
  return { number: oneofCase.number, message: (oneofCase as DescField & { message: DescMessage }).message };
}
