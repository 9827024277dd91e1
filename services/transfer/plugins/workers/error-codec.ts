/**
 * Errors across the thread boundary. An Error object cannot be posted as
 * itself with its class intact, so the worker sends plain data and the main
 * thread rebuilds:
 *
 * - a `FormatError` (broken input a reader cannot go on with) becomes a
 *   `FormatError` again, of the main thread's SDK, with the same
 *   row/line/offset/column/reason: the import pipeline reports it per row
 *   exactly as it does for a plugin running in-thread;
 * - anything else the plugin throws becomes a {@link FormatPluginError} naming
 *   the plugin, with the original (name, message, stack) as its `cause`.
 */
import { FormatError, isFormatError } from "../../../../formats/_sdk/index.js";
import { FormatPluginError, type PluginFailureKind } from "../plugin-errors.js";

export type SerializedError =
  | { kind: "format"; reason: string; row?: number; line?: number; offset?: number; column?: string; stack?: string }
  | { kind: "error"; name: string; message: string; stack?: string; code?: string };

/** Plain data for `postMessage`, whatever was thrown (a plugin may throw a string). */
export function serializeError(error: unknown): SerializedError {
  if (isFormatError(error)) {
    const { reason, row, line, offset, column, stack } = error;
    return { kind: "format", reason, row, line, offset, column, stack };
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { kind: "error", name: error.name, message: error.message, stack: error.stack, code: typeof code === "string" ? code : undefined };
  }
  return { kind: "error", name: "Error", message: typeof error === "string" ? error : safeString(error) };
}

/** The error the job's consumer sees, rebuilt on the main thread. */
export function rebuildError(plugin: string, error: SerializedError, kind: PluginFailureKind = "failed"): Error {
  if (error.kind === "format") {
    const rebuilt = new FormatError(error.reason, { row: error.row, line: error.line, offset: error.offset, column: error.column });
    if (error.stack) rebuilt.stack = error.stack;
    return rebuilt;
  }
  const original = new Error(error.message);
  original.name = error.name;
  if (error.stack) original.stack = error.stack;
  if (error.code) (original as { code?: string }).code = error.code;
  return new FormatPluginError(plugin, kind, error.message || error.name, { cause: original });
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return "a value that is not an Error";
  }
}
