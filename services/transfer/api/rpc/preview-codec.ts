/** PreviewImport's answer as its wire message. */
import { create, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema, type Value } from "@bufbuild/protobuf/wkt";
import { fromJson } from "@bufbuild/protobuf";
import { PreviewImportResponseSchema, PreviewRow_Outcome, type PreviewImportResponse } from "../../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import type { PreviewOutcome, PreviewResult } from "../../preview/preview-import.js";
import { rowErrorMessage } from "./job-codec.js";

const OUTCOMES: Record<PreviewOutcome, PreviewRow_Outcome> = {
  new: PreviewRow_Outcome.NEW,
  update: PreviewRow_Outcome.UPDATE,
  unchanged: PreviewRow_Outcome.UNCHANGED,
  skip: PreviewRow_Outcome.SKIP,
  error: PreviewRow_Outcome.ERROR,
};

const value = (v: unknown): Value | undefined => (v === undefined ? undefined : fromJson(ValueSchema, v as JsonValue));

export function previewMessage(result: PreviewResult): PreviewImportResponse {
  return create(PreviewImportResponseSchema, {
    format: result.format,
    formatChosenBy: result.formatChosenBy ?? "",
    encoding: result.encoding ?? "",
    detected: result.detected as JsonObject | undefined,
    columns: result.columns,
    suggestions: result.suggestions.map((s) => ({ column: s.column, field: s.field ?? "", matchedBy: s.matchedBy ?? "" })),
    headerErrors: result.headerErrors.map(rowErrorMessage),
    changesWithheld: result.changesWithheld ?? "",
    rows: result.rows.map((r) => ({
      row: BigInt(r.row),
      line: BigInt(r.line ?? 0),
      outcome: OUTCOMES[r.outcome],
      values: r.values as JsonObject | undefined,
      changes: r.changes.map((c) => ({ field: c.field, before: value(c.before), after: value(c.after) })),
      errors: r.errors.map(rowErrorMessage),
    })),
  });
}
