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
