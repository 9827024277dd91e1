/**
 * CSV options. Every field has a default (or is deliberately optional), so
 * `csvOptions.parse({})` is a complete, RFC 4180 configuration.
 */
import { z } from "zod";
import { textEncodingSchema } from "../_sdk/index.js";

const oneChar = z.string().length(1, "must be exactly one character").refine((c) => c !== "\r" && c !== "\n", "cannot be a line break");

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
    /** Text encoding; on read a byte order mark overrides it. */
    encoding: textEncodingSchema.default("utf-8"),
    /** Write a byte order mark (helps Excel recognise UTF-8). */
    bom: z.boolean().default(false),
    /**
     * Prefix text cells that start with = + - @ tab or CR with `'` on write, so a
     * spreadsheet shows them instead of evaluating them (OWASP "CSV injection").
     */
    formulaEscape: z.boolean().default(true),
  })
  .refine((o) => o.delimiter === undefined || o.delimiter !== o.quote, {
    message: "delimiter and quote must differ",
    path: ["delimiter"],
  });

export type CsvOptions = z.infer<typeof csvOptions>;
