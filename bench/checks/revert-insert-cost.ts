/**
 * What remembering an import's inserts costs (store/before-images.ts): N new
 * sessions written through WriteRecords (unordered inserts, batches of 1000,
 * 4 unanswered, as the transfer service sends them) with a job id — its
 * before-images written — and without one, none written; and, for scale, the
 * same documents inserted directly with the driver. Parties interleave in
 * every round, each into an emptied sessions collection, on a FerretDB of its
 * own, after a warm-up run of each, the two WriteRecords parties taking turns
 * to go first; the ratio within one run is the figure (absolute rates depend on what
 * else the two cores are doing).
 *
 *   npx tsx bench/checks/revert-insert-cost.ts [--n 20000] [--rounds 6]
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MongoClient, type Db, type Document } from "mongodb";
import { Entity, EntityRecordSchema, RecordsService, WriteMode, WriteRecordsRequestSchema, type EntityRecord, type WriteRecordsRequest } from "../../gen/dataexchange/records/v1/records_pb.js";
import { buildRecordsServer } from "../../services/records/server.js";
import { BEFORE_IMAGES, prepareBeforeImages } from "../../services/records/store/before-images.js";
import { prepareChangeTracking } from "../../services/records/store/change-tracking.js";
import { JOB_ID_HEADER } from "../../services/shared/audit/index.js";
import { startFerretDb } from "../../scripts/lib/ferretdb.js";
import { createRecordsIndexes } from "../lib/context.js";
import { seedReferences, session } from "../lib/data.js";

const { values } = parseArgs({ options: { n: { type: "string", default: "20000" }, rounds: { type: "string", default: "6" } } });
const n = Number(values.n);
const rounds = Number(values.rounds);
const BATCH = 1000;
const IN_FLIGHT = 4;

function toRecord(doc: Document): EntityRecord {
  const value = Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, v instanceof Date ? timestampFromDate(v) : v]));
  return create(EntityRecordSchema, { kind: { case: "session", value } } as MessageInitShape<typeof EntityRecordSchema>);
}

async function reset(db: Db): Promise<void> {
  await db
    .collection("sessions")
    .drop()
    .catch(() => undefined);
  await createRecordsIndexes(db, ["sessions"]);
  await db.collection(BEFORE_IMAGES).deleteMany({});
}

/** Rows/s of an import of sessions [0, n) through WriteRecords, for job `jobId` or for none. */
async function throughWriteRecords(url: string, jobId: string | undefined): Promise<number> {
  const client = createClient(RecordsService, createGrpcTransport({ baseUrl: url }));
  let pending = 0;
  let wake: (() => void) | undefined;
  async function* requests(): AsyncGenerator<WriteRecordsRequest> {
    for (let start = 0; start < n; start += BATCH) {
      const records = Array.from({ length: Math.min(BATCH, n - start) }, (_, i) => toRecord(session(start + i)));
      while (pending >= IN_FLIGHT) await new Promise<void>((r) => (wake = r));
      pending++;
      yield create(WriteRecordsRequestSchema, { entity: Entity.SESSIONS, mode: WriteMode.INSERT, ordered: false, batchId: String(start / BATCH), records });
    }
  }
  const t0 = performance.now();
  let inserted = 0;
  for await (const response of client.writeRecords(requests(), { headers: jobId ? { [JOB_ID_HEADER]: jobId } : {} })) {
    pending--;
    inserted += response.inserted;
    const w = wake;
    wake = undefined;
    w?.();
  }
  const ms = performance.now() - t0;
  if (inserted !== n) throw new Error(`inserted ${inserted} of ${n}`);
  return n / (ms / 1000);
}

/** Rows/s of the same documents inserted with the driver, unordered, 4 batches in flight. */
async function direct(db: Db): Promise<number> {
  const t0 = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  for (let start = 0; start < n; start += BATCH) {
    const docs = Array.from({ length: Math.min(BATCH, n - start) }, (_, i) => ({ ...session(start + i), updatedAt: new Date() }));
    const p = db.collection("sessions").insertMany(docs, { ordered: false });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return n / ((performance.now() - t0) / 1000);
}

const tmp = mkdtempSync(join(tmpdir(), "dx-revert-cost-"));
const ferret = await startFerretDb({ dataDir: join(tmp, "ferretdb") });
const mongo = new MongoClient(ferret.uri);
try {
  await mongo.connect();
  const db = mongo.db("revert_cost");
  await createRecordsIndexes(db);
  await prepareChangeTracking(db);
  await prepareBeforeImages(db);
  await seedReferences(db);
  const server = await buildRecordsServer({ db, host: "127.0.0.1", port: 0 });
  const rates: Record<"job" | "none" | "direct", number[]> = { job: [], none: [], direct: [] };
  try {
    // A run of each first, not counted: the first runs meet a cold server (JIT, FerretDB's first tables).
    for (const party of ["job", "none"] as const) {
      await reset(db);
      await throughWriteRecords(server.url, party === "job" ? "bench-warm-up" : undefined);
    }
    for (let round = 1; round <= rounds; round++) {
      // Alternating which goes first, so neither always meets a warmer server.
      const order = round % 2 === 1 ? (["job", "none", "direct"] as const) : (["none", "job", "direct"] as const);
      for (const party of order) {
        await reset(db);
        const rate = party === "direct" ? await direct(db) : await throughWriteRecords(server.url, party === "job" ? `bench-job-${round}` : undefined);
        rates[party].push(rate);
        const kept = await db.collection(BEFORE_IMAGES).countDocuments({});
        process.stderr.write(`round ${round} ${party}: ${(rate / 1000).toFixed(1)}k rows/s, ${kept} before-image documents\n`);
      }
    }
  } finally {
    await server.close();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const [job, none, dir] = [median(rates.job), median(rates.none), median(rates.direct)];
  const ratios = rates.job.map((r, i) => r / rates.none[i]!);
  const perRound = ratios.map((r) => r.toFixed(2)).join(", ");
  console.log(`N=${n}, ${rounds} rounds (medians): with a job id ${(job / 1000).toFixed(1)}k rows/s, without ${(none / 1000).toFixed(1)}k, direct insertMany ${(dir / 1000).toFixed(1)}k`);
  console.log(`with / without a job id: ${(job / none).toFixed(2)}× (per round ${perRound}; their median ${median(ratios).toFixed(2)}×); with a job id / direct: ${(job / dir).toFixed(2)}×`);
} finally {
  await mongo.close();
  await ferret.stop();
  rmSync(tmp, { recursive: true, force: true });
}
