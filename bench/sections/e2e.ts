/**
 * End to end: client → transfer service → records service → database, each
 * service its own process. Filled in once the transfer service exists.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { BenchContext } from "../lib/context.js";
import { REPO } from "../lib/processes.js";
import type { Variant } from "../lib/rounds.js";

/** Extra parties a phase can run beside the baselines. */
export interface Parties {
  available: boolean;
  label?: string;
  why?: string;
  exportVariants?: () => Variant[];
  importVariants?: (mode: "insert" | "upsert", file: string, rows: number) => Variant[];
  memoryVariants?: (tenth: number) => Variant[];
}

export async function e2eParties(ctx: BenchContext): Promise<Parties> {
  void ctx;
  if (!existsSync(join(REPO, "services/transfer/server.ts"))) {
    return { available: false, label: "end to end", why: "services/transfer/server.ts does not exist yet: the end-to-end rows are not measurable in this run" };
  }
  return { available: false, label: "end to end", why: "the transfer service exists but the bench does not drive it yet" };
}
