/**
 * Baseline import: one process parses the CSV with csv-parse, validates each
 * row with a zod schema of a session, and inserts with insertMany (unordered)
 * in batches of 1000, awaiting each batch. Rows zod refuses are counted and
 * skipped (lenient), as ours does.
 */
import { parse } from "csv-parse";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { MongoClient, MongoBulkWriteError } from "mongodb";
import { z } from "zod";
import { runAsWorker } from "../lib/worker.js";

interface Args {
  uri: string;
  database: string;
  file: string;
}

const optionalDate = z.preprocess((v) => (v === "" ? undefined : v), z.coerce.date().optional());
const optionalNumber = z.preprocess((v) => (v === "" ? undefined : v), z.coerce.number().min(0).max(100).optional());
const sessionSchema = z.object({
  sessionId: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/),
  userId: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._@+-]*$/),
  courseId: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/),
  startedAt: z.coerce.date(),
  endedAt: optionalDate,
  status: z.enum(["active", "completed", "pending"]),
  score: optionalNumber,
});

runAsWorker<Args>(async ({ uri, database, file }) => {
  const client = new MongoClient(uri);
  await client.connect();
  try {
    const collection = client.db(database).collection("sessions");
    const t0 = performance.now();
    let records = 0;
    let invalid = 0;
    let inserted = 0;
    let failed = 0;
    let batch: Record<string, unknown>[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const docs = batch;
      batch = [];
      try {
        inserted += (await collection.insertMany(docs, { ordered: false })).insertedCount;
      } catch (error) {
        if (!(error instanceof MongoBulkWriteError)) throw error;
        inserted += error.insertedCount;
        failed += docs.length - error.insertedCount;
      }
    };
    for await (const row of createReadStream(file).pipe(parse({ columns: true }))) {
      records++;
      const result = sessionSchema.safeParse(row);
      if (!result.success) {
        invalid++;
        continue;
      }
      const doc: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(result.data)) if (v !== undefined) doc[k] = v;
      batch.push(doc);
      if (batch.length >= 1000) await flush();
    }
    await flush();
    const ms = performance.now() - t0;
    return { records, bytes: (await stat(file)).size, ms, extra: { inserted, invalid, failed } };
  } finally {
    await client.close();
  }
});
