/** Whether a module is the process's entry point. */
import { realpathSync } from "node:fs";
import { extname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * True when the module whose `import.meta.url` is given is the process entry
 * point, so that `server.ts` can export its builder for tests and only listen
 * when run directly (`tsx services/records/server.ts`).
 */
export function isMain(importMetaUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  const self = fileURLToPath(importMetaUrl);
  const candidates = [resolve(entry)];
  if (!extname(entry)) candidates.push(resolve(entry) + extname(self));
  return candidates.some((candidate) => samePath(candidate, self));
}

function samePath(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}
