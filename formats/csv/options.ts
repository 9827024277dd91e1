/**
 * CSV options. Every field has a default (or is deliberately optional), so
 * `csvOptions.parse({})` is a complete, RFC 4180 configuration.
 */
import { z } from "zod";
import { readEncodingSchema } from "@data-exchange/format-sdk";

const oneChar = z
  .string()
  .length(1, "must be exactly one character")
  .refine((c) => c !== "\r" && c !== "\n", "cannot be a line break");

export const csvOptions = z
  .object({
    /** Field separator; sniffed from the first lines on read when absent, "," on write. */
    delimiter: oneChar.optional(),
    quote: oneChar.default('"'),
    /** Escapes a quote inside a quoted field; absent means RFC 4180 doubling (`""`). */
    escape: oneChar.optional(),
    /** First record holds column names (read) / write one (write). */
    header: z.boolean().default(true),
    /** Line ending written between records; reading accepts LF, CRLF and CR. */
    recordDelimiter: z.enum(["lf", "crlf"]).default("crlf"),
    /**
     * Text encoding: utf-8, utf-16le, utf-16be, latin1, windows-1252; on read a
     * byte order mark overrides it. Not given: written as UTF-8; on read a BOM,
     * UTF-16 and UTF-8 are recognised and other bytes are refused naming the
     * encoding they look like. "auto" (read only): bytes that are not UTF-8 are
     * decoded as a detector names them, reported in the job summary.
     */
    encoding: readEncodingSchema.optional(),
    /** Write a byte order mark (helps Excel recognise UTF-8). */
    bom: z.boolean().default(false),
    /**
     * Prefix text cells (and header cells) a spreadsheet would evaluate (= + - @,
     * also after white space and in fullwidth forms; a leading tab or CR) with
     * `'` on write, so a spreadsheet shows them instead of evaluating them (OWASP
     * "CSV injection"); on read, remove that apostrophe again, so an export
     * imports back exactly. See `escapeFormula` in the SDK.
     */
    formulaEscape: z.boolean().default(true),
  })
  .refine((o) => o.delimiter === undefined || o.delimiter !== o.quote, {
    message: "delimiter and quote must differ",
    path: ["delimiter"],
  });

export type CsvOptions = z.infer<typeof csvOptions>;
