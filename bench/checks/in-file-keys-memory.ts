/**
 * What the in-file duplicate check holds for N distinct keys
 * (services/transfer/core/in-file-keys.ts): heap + array buffers after full
 * collections, before and after claiming N session keys (one key space) or N
 * users (two: email and username), the time it took, and the peak of the
 * array buffers while claiming (sampled every 1000 rows, no collection
 * forced: a table that grows keeps its old arrays until the next collection). Run with
 * `node --expose-gc --import tsx bench/checks/in-file-keys-memory.ts [N] [module] [sessions|users]`;
 * `module` is another copy of in-file-keys.ts to compare (e.g. main's). One
 * entity per process, so one table's collection does not hide in another's figure.
 */
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { ENTITIES } from "../../services/domain/index.js";

const n = Number(process.argv[2] ?? 1_000_000);
const modulePath = resolve(process.argv[3] ?? "services/transfer/core/in-file-keys.ts");
const { InFileKeys } = (await import(pathToFileURL(modulePath).href)) as typeof import("../../services/transfer/core/in-file-keys.js");
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

function held(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const entity = (process.argv[4] ?? "sessions") as "sessions" | "users";
if (entity !== "sessions" && entity !== "users") throw new Error(`entity: sessions or users, not ${String(entity)}`);
{
  const before = held();
  const t0 = performance.now();
  const keys = new InFileKeys(ENTITIES[entity]);
  const buffersBefore = process.memoryUsage().arrayBuffers;
  let peakBuffers = 0;
  for (let row = 0; row < n; row++) {
    if (row % 1000 === 0) peakBuffers = Math.max(peakBuffers, process.memoryUsage().arrayBuffers - buffersBefore);
    const record = entity === "sessions" ? { sessionId: `s${String(row).padStart(8, "0")}` } : { email: `user${row}@example.org`, username: `user${row}` };
    if (keys.claim(record, row) !== undefined) throw new Error(`row ${row} was taken for a repeat`);
  }
  const ms = performance.now() - t0;
  const bytes = held() - before;
  const perKey = bytes / keys.size;
  process.stdout.write(
    `${entity}: ${n} rows, ${keys.size} keys: ${(bytes / 2 ** 20).toFixed(1)} MB held (${perKey.toFixed(1)} bytes a key), array buffers at most ${(peakBuffers / 2 ** 20).toFixed(1)} MB while claiming, ${(ms / 1000).toFixed(2)} s, RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB\n`,
  );
  void keys.size;
}
