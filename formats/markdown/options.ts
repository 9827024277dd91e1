/** The options of the markdown format: every field has a default, so that parse({}) is the whole configuration. */
import { z } from "zod";

export const markdownOptions = z.object({
  /** Right-align number columns (`---:`), as spreadsheets show numbers. */
  alignNumbers: z.boolean().default(true),
});

export type Options = z.infer<typeof markdownOptions>;
