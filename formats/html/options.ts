/** HTML options; `htmlOptions.parse({})` gives a complete configuration. */
import { z } from "zod";

export const htmlOptions = z.object({
  /** The page title and table caption; default the exported entity's name. */
  title: z.string().min(1).max(200).optional(),
  /** The page's language (`<html lang>`), a BCP 47 tag. */
  lang: z
    .string()
    .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/, "must be a language tag such as en or de-CH")
    .default("en"),
});

export type HtmlOptions = z.infer<typeof htmlOptions>;
