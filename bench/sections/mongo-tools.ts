/** Placeholder; filled in below. */
import type { BenchContext } from "../lib/context.js";
import type { Parties } from "./e2e.js";

export async function toolParties(ctx: BenchContext): Promise<Parties> {
  void ctx;
  return { available: false, label: "mongo-tools", why: "not built yet" };
}
