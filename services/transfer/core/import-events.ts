/**
 * What an import reports while it runs, and the rules for what a report may
 * show: values are clipped (a 5 MB cell must not become a 5 MB event) and a
 * write-only value (a password) never appears, neither as the offending value
 * nor inside a reason text.
 */

import type { ReadEncoding, ReadHeader } from "../../../formats/_sdk/index.js";
import type { RowCounts, RowError, RowErrorCode } from "../../domain/index.js";

export type ImportEvent =
  | {
      kind: "progress";
      rowsRead: number;
      bytesRead: number;
      phase: "validating" | "writing";
      /** Rows the writer has handled in this phase (checked in a dry run, written otherwise). */
      rowsWritten: number;
      /** The counts so far, as the summary will count them (each only grows, and never past the summary's). */
      counts: RowCounts;
    }
  | ({ kind: "row_error" } & RowError)
  | (RowCounts & {
      kind: "summary";
      sha256: string;
      bytes: number;
      strictAborted: boolean;
      dryRun: boolean;
      /** Set when the import ended before the end of the file (a limit, unreadable input, columns that fit no field). */
      stopped?: {
        /** "budget": max_errors, max_error_ratio or max_changes was exceeded (core/import-budget.ts). */
        code: "limit" | "format" | "invalid" | "budget";
        reason: string;
        /** The data row it stopped at; absent when it stopped at the header or before the first row. */
        row?: number;
        line?: number;
        /** Byte offset in the file, when known (undecodable bytes). */
        offset?: number;
        /** "header": the whole file was refused for its header or its mapped columns; nothing was written. */
        at?: "header";
        /** The request setting at fault (`mapping[0].source`, `file`). */
        setting?: string;
      };
      /** How the file's text was decoded, when the reader said (a detected encoding and its confidence). */
      encoding?: ReadEncoding;
      /** The file's header, when the reader gave one (the failed-rows file repeats it). */
      header?: ReadHeader;
    })
  /**
   * A rejected row itself, after its row_error events: the cells as the file
   * had them (write-only cells withheld), for the failed-rows file. Internal to
   * the job: not sent to clients as an event of its own.
   */
  | { kind: "failed_row"; row: number; line?: number; values?: Record<string, unknown>; errors: string[]; withheld?: string[]; personal?: string[] };

export type RowErrorEvent = Extract<ImportEvent, { kind: "row_error" }>;
export type FailedRowEvent = Extract<ImportEvent, { kind: "failed_row" }>;
export type SummaryEvent = Extract<ImportEvent, { kind: "summary" }>;

/** The longest offending value an event carries. */
export const MAX_VALUE_CHARS = 200;
/** Shown instead of a write-only value. */
export const MASK = "***";

/** A cell as text for a report, clipped; undefined for a missing cell. */
export function displayValue(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  let text: string;
  if (typeof value === "string") text = value;
  else if (value instanceof Date) text = Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  else if (value === null || typeof value !== "object") text = String(value);
  else {
    try {
      text = JSON.stringify(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

/** Removes secrets from a reason text (quoted, and bare when long enough to be found reliably), longest first. */
export function redact(text: string, secrets: readonly string[], mask = MASK): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret === "") continue;
    out = out.replaceAll(JSON.stringify(secret), mask);
    if (secret.length >= 4) out = out.replaceAll(secret, mask);
  }
  return out;
}

/** A plugin's row error is a limit when it says a record outgrew one, else a format problem. */
export function readErrorCode(reason: string): RowErrorCode {
  return /larger than \d+|more than \d+ (fields|keys|columns)/.test(reason) ? "limit" : "format";
}

/**
 * A plugin's reason for a row it could not parse may quote the row's text (V8
 * JSON errors do: `Unexpected token 'h', ..."password":hunter2"... is not
 * valid JSON`), and the core has no parsed values to redact it with. When the
 * entity has write-only fields, such excerpts are withheld.
 */
export function scrubPluginReason(reason: string, entityHasSecrets: boolean): string {
  if (!entityHasSecrets) return reason;
  return reason.replace(/(?:\.\.\.)?"[\s\S]*"(?:\.\.\.)? is not valid JSON/g, "(excerpt withheld) is not valid JSON");
}
