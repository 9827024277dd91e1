/**
 * What a collection's secondary (non-unique) indexes cost FerretDB on every
 * insert: N session documents, as the records service stores them (with their
 * change time), inserted with the driver in unordered batches of 1000 into a
 * sessions collection indexed as the records service indexes it on MongoDB
 * (key, four `indexedFields`, the change time) and as it does on FerretDB 1.x
 * (the unique key alone, see services/records/store/server-kind.ts). The two
 * take turns over the rounds, each into a fresh collection, on a FerretDB of
 * their own; the ratio within one run is the figure.
 *
 *   npx tsx bench/checks/secondary-index-cost.ts [--n 30000] [--rounds 3] [--backend sqlite|postgresql --postgresql-url URL]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MongoClient } from "mongodb";
import { ENTITIES } from "../../services/domain/index.js";
import { indexesFor } from "../../services/records/store/collections.js";
import { startFerretDb, type FerretDbBackend } from "../../scripts/lib/ferretdb.js";
import { session } from "../lib/data.js";

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "30000" },
    rounds: { type: "string", default: "3" },
    backend: { type: "string", default: "sqlite" },
    "postgresql-url": { type: "string" },
  },
});
const n = Number(values.n);
const rounds = Number(values.rounds);
const dataDir = mkdtempSync(join(tmpdir(), "dx-secondary-index-cost-"));
const ferretdb = await startFerretDb({ dataDir, backend: values.backend as FerretDbBackend, postgresqlUrl: values["postgresql-url"] });
const client = await MongoClient.connect(ferretdb.uri);
try {
  const db = client.db("secondary_index_cost");
  const parties = { "unique key only (FerretDB 1.x)": false, "with secondary indexes (MongoDB)": true };
  const perDocument: Record<string, number[]> = {};
  const changedAt = new Date();
  for (let round = 0; round < rounds; round++) {
    const order = Object.entries(parties);
    if (round % 2 === 1) order.reverse();
    for (const [name, secondary] of order) {
      const collection = db.collection(`sessions_${round}_${secondary ? "all" : "unique"}`);
      for (const index of indexesFor(ENTITIES.sessions, secondary)) await collection.createIndexes([index]);
      const started = performance.now();
      for (let from = 0; from < n; from += 1000) {
        const documents = Array.from({ length: Math.min(1000, n - from) }, (_, i) => ({ ...session(from + i), updatedAt: changedAt }));
        await collection.insertMany(documents, { ordered: false });
      }
      (perDocument[name] ??= []).push(((performance.now() - started) * 1000) / n);
      await collection.drop();
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`FerretDB ${values.backend}, ${n} sessions a party, ${rounds} rounds (µs a document, wall time of one client)`);
  for (const [name, times] of Object.entries(perDocument)) console.log(`${name.padEnd(34)} median ${median(times).toFixed(1)} µs  (${times.map((t) => t.toFixed(1)).join(", ")})`);
  const [without, withAll] = Object.values(perDocument).map(median) as [number, number];
  console.log(`secondary indexes cost ${(withAll - without).toFixed(1)} µs a document: inserts ${(withAll / without).toFixed(2)}× as long`);
} finally {
  await client.close();
  await ferretdb.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
