/**
 * The records service's configuration, read from the environment and checked
 * with zod at start, so a typo fails fast with the variable's name.
 */
import { withoutEmptyValues } from "../shared/config/unset-empty.js";
import { z } from "zod";
import { numberSetting, wholeNumberSetting } from "../shared/config/number-setting.js";
import { DEFAULT_REVERT_RETENTION_DAYS } from "./store/before-images.js";

const schema = z.object({
  MONGODB_URI: z.string({ error: "MONGODB_URI is required (e.g. mongodb://127.0.0.1:27017/)" }).regex(/^mongodb(\+srv)?:\/\//, "MONGODB_URI must start with mongodb:// or mongodb+srv://"),
  RECORDS_DATABASE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/, "RECORDS_DATABASE must be a plain database name")
    .default("dataexchange"),
  RECORDS_HOST: z.string().default("127.0.0.1"),
  RECORDS_PORT: wholeNumberSetting(0, 65535).default(50051),
  /** Largest request message accepted, in bytes (a WriteRecords batch). */
  RECORDS_MAX_MESSAGE_BYTES: wholeNumberSetting(1).default(32 * 1024 * 1024),
  /**
   * Days an import's before-images are kept, so that RevertWrites can undo it
   * (store/before-images.ts); fractions allowed. Past it the import can no
   * longer be reverted.
   */
  RECORDS_REVERT_RETENTION_DAYS: numberSetting(z.number().positive().max(3650)).default(DEFAULT_REVERT_RETENTION_DAYS),
});

export type RecordsConfig = z.infer<typeof schema>;

export function loadRecordsConfig(env: NodeJS.ProcessEnv = process.env): RecordsConfig {
  const result = schema.safeParse(withoutEmptyValues(env));
  if (!result.success) {
    throw new Error(`invalid records service configuration:\n${result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n")}`);
  }
  return result.data;
}
