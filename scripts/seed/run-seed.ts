/** Opens the OULAD set and loads all of it through a records client: what `npm run seed` and its test run. */
import { loadEntities, type LoadAllOptions, type RecordsClient } from "./load-records.js";
import { openOuladSeed } from "./oulad-seed.js";
import type { SeedOutcome } from "./report.js";

export async function runSeed(client: RecordsClient, dataDir: string, options: LoadAllOptions = {}): Promise<SeedOutcome> {
  const started = performance.now();
  const seed = await openOuladSeed(dataDir);
  const results = await loadEntities(client, seed.sources, {
    // Activity of the seed's courses means this seed (or part of it) was loaded before.
    activityFilter: { courseIds: [...seed.courses.keys()] },
    ...options,
  });
  return { seed, results, ms: performance.now() - started };
}
