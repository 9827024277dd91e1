/**
 * The error a reader throws when input is malformed beyond recovery (broken
 * JSON syntax, an unterminated quote at end of file, an undecodable header).
 * It carries the position so the core can report "row 12, line 40" instead of
 * a bare parser message; recoverable problems are yielded as row errors instead.
 */
export class FormatError extends Error {
  override name = "FormatError";
  /** 1-based data record number where the problem was found. */
  row?: number;
  /** 1-based physical line. */
  line?: number;
  /** 0-based byte offset in the input, when the format tracks bytes. */
  offset?: number;
  column?: string;
  /** The reason without the position prefix, for per-row error reports. */
  reason: string;

  constructor(reason: string, where: { row?: number; line?: number; offset?: number; column?: string } = {}, options?: { cause?: unknown }) {
    super(describe(reason, where), options);
    this.reason = reason;
    this.row = where.row;
    this.line = where.line;
    this.offset = where.offset;
    this.column = where.column;
  }
}

function describe(reason: string, where: { row?: number; line?: number; offset?: number; column?: string }): string {
  const at: string[] = [];
  if (where.row !== undefined) at.push(`row ${where.row}`);
  if (where.line !== undefined) at.push(`line ${where.line}`);
  if (where.column !== undefined) at.push(`column ${JSON.stringify(where.column)}`);
  if (where.offset !== undefined) at.push(`byte ${where.offset}`);
  return at.length > 0 ? `${reason} (at ${at.join(", ")})` : reason;
}

/**
 * True for a FormatError of this SDK or of another copy of it: a plugin kept
 * in another folder may bring its own copy, and so its own FormatError class
 * (`instanceof` would call its broken-file errors plugin bugs).
 */
export function isFormatError(error: unknown): error is FormatError {
  if (error instanceof FormatError) return true;
  const e = error as { name?: unknown; reason?: unknown } | null;
  return typeof e === "object" && e !== null && e.name === "FormatError" && typeof e.reason === "string";
}

/** A FormatError of any copy of the SDK as one of this copy's, position, stack and cause kept. */
export function asFormatError(error: FormatError): FormatError {
  if (error instanceof FormatError) return error;
  // A FormatError of another copy: the same shape, another class.
  const foreign: Pick<FormatError, "reason" | "row" | "line" | "offset" | "column" | "cause" | "stack"> = error;
  const own = new FormatError(foreign.reason, { row: foreign.row, line: foreign.line, offset: foreign.offset, column: foreign.column }, { cause: foreign.cause });
  if (foreign.stack) own.stack = foreign.stack;
  return own;
}
