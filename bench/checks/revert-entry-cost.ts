/**
 * What FerretDB spends on one inserted batch's revert entry
 * (services/records/store/before-images.ts): the entry of a batch of 500
 * session keys as `remember` writes it (the keys packed into one string),
 * the same entry with the keys as an array (how entries were written before
 * 2 December 2026), and with no keys at all (the cost of the insert itself).
 * FerretDB's CPU is read from `/proc/<pid>/stat` around each run of entries,
 * on a FerretDB/SQLite of its own; forms interleave in every round.
 *
 *   npx tsx bench/checks/revert-entry-cost.ts [--entries 300] [--rounds 3]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MongoClient, ObjectId } from "mongodb";
import { ENTITIES } from "../../services/domain/index.js";
import { insertedBatches, prepareBeforeImages, remember, type WriteMemory } from "../../services/records/store/before-images.js";
import { startFerretDb } from "../../scripts/lib/ferretdb.js";

const { values } = parseArgs({ options: { entries: { type: "string", default: "300" }, rounds: { type: "string", default: "3" } } });
const entries = Number(values.entries);
const rounds = Number(values.rounds);
const KEYS = 500;
const DAY_MS = 24 * 60 * 60 * 1000;

const tmp = mkdtempSync(join(tmpdir(), "dx-revert-entry-"));
const ferret = await startFerretDb({ dataDir: join(tmp, "ferretdb") });
const mongo = new MongoClient(ferret.uri);
/** FerretDB's CPU time so far (user + system), ms. */
function ferretCpuMs(): number {
  const fields = readFileSync(`/proc/${ferret.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * (1000 / 100);
}

let next = 0;
/** The keys of the next batch: distinct session ids, as an import's would be. */
function batchOfKeys(): string[][] {
  const first = next;
  next += KEYS;
  return Array.from({ length: KEYS }, (_, i) => [`session-${first + i}-2013J`]);
}

try {
  await mongo.connect();
  const db = mongo.db("revert_entry_cost");
  await prepareBeforeImages(db);
  const memory: WriteMemory = { db, jobId: "bench-job", retentionMs: DAY_MS };
  const forms = {
    "packed (remember)": async () => {
      await remember(memory, ENTITIES.sessions, { batchId: new ObjectId(), inserted: batchOfKeys(), updated: [] }, new Date());
    },
    "array (before)": async () => {
      const changedAt = new Date();
      const keys = batchOfKeys().map((k) => k[0]!);
      await insertedBatches(db).insertOne({ _id: new ObjectId(), jobId: memory.jobId, entity: "sessions", kind: "inserted", keys, changedAt, expiresAt: new Date(changedAt.getTime() + DAY_MS) });
    },
    "no keys": async () => {
      const changedAt = new Date();
      await insertedBatches(db).insertOne({ _id: new ObjectId(), jobId: memory.jobId, entity: "sessions", kind: "inserted", changedAt, expiresAt: new Date(changedAt.getTime() + DAY_MS) });
    },
  };
  const cpu: Record<string, number[]> = Object.fromEntries(Object.keys(forms).map((f) => [f, []]));
  for (const write of Object.values(forms)) for (let i = 0; i < 20; i++) await write(); // warm-up
  for (let round = 1; round <= rounds; round++) {
    for (const [form, write] of Object.entries(forms)) {
      const before = ferretCpuMs();
      const t0 = performance.now();
      for (let i = 0; i < entries; i++) await write();
      const wallMs = (performance.now() - t0) / entries;
      const cpuMs = (ferretCpuMs() - before) / entries;
      cpu[form]!.push(cpuMs);
      process.stderr.write(`round ${round} ${form}: FerretDB CPU ${cpuMs.toFixed(2)} ms an entry, wall ${wallMs.toFixed(2)} ms\n`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`entries of ${KEYS} keys, ${entries} a form a round, ${rounds} rounds; FerretDB CPU an entry (median):`);
  for (const [form, xs] of Object.entries(cpu)) console.log(`  ${form.padEnd(18)} ${median(xs).toFixed(2)} ms (${((median(xs) * 1000) / KEYS).toFixed(1)} µs an imported record)`);
} finally {
  await mongo.close();
  await ferret.stop();
  rmSync(tmp, { recursive: true, force: true });
}
