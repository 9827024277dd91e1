/**
 * The benchmark's data: N session records that reference a small set of users
 * and courses, generated deterministically so every run (and every party in
 * a run) handles the same records. Sessions are the entity the issue names;
 * they have a natural key, two references and typed fields (two timestamps,
 * an enum, a number), which is what makes import work.
 */
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import type { Db, Document } from "mongodb";

export const USERS = 1000;
export const COURSES = 50;
const STATUSES = ["active", "completed", "pending"] as const;
const T0 = Date.UTC(2024, 0, 1);

/** Column keys of a session as exported and imported, in file order. */
export const SESSION_COLUMNS = [
  { key: "sessionId", type: "string" },
  { key: "userId", type: "string" },
  { key: "courseId", type: "string" },
  { key: "startedAt", type: "timestamp" },
  { key: "endedAt", type: "timestamp" },
  { key: "status", type: "string" },
  { key: "score", type: "number" },
] as const;

/** Session number i as it is stored (the plain record, dates as Date). */
export function session(i: number, variant = 0): Document {
  const started = T0 + i * 37_000;
  const doc: Document = {
    sessionId: `s${String(i).padStart(8, "0")}`,
    userId: `u${i % USERS}`,
    courseId: `C${i % COURSES}`,
    startedAt: new Date(started),
    status: STATUSES[i % 3],
    score: ((i + variant) % 1000) / 10,
  };
  if (i % 3 !== 2) doc.endedAt = new Date(started + 1_800_000 + (i % 7) * 60_000);
  return doc;
}

export function userDoc(i: number): Document {
  const now = new Date(T0);
  return { email: `u${i}@example.com`, username: `u${i}`, firstName: `First${i}`, lastName: `Last${i}`, role: "student", status: "active", createdAt: now, updatedAt: now };
}

export function courseDoc(i: number): Document {
  return { code: `C${i}`, title: `Course ${i}`, category: "bench", visible: true };
}

/** Inserts the users and courses the sessions reference. */
export async function seedReferences(db: Db): Promise<void> {
  await db.collection("users").insertMany(
    Array.from({ length: USERS }, (_, i) => userDoc(i)),
    { ordered: false },
  );
  await db.collection("courses").insertMany(
    Array.from({ length: COURSES }, (_, i) => courseDoc(i)),
    { ordered: false },
  );
}

/** Inserts sessions [0, n) directly with the driver, a few batches in flight. */
export async function seedSessions(db: Db, n: number, variant = 0): Promise<void> {
  const collection = db.collection("sessions");
  const inFlight = new Set<Promise<unknown>>();
  for (let start = 0; start < n; start += 1000) {
    const docs = [];
    for (let i = start; i < Math.min(n, start + 1000); i++) docs.push(session(i, variant));
    const p = collection.insertMany(docs, { ordered: false }).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 3) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

/** The CSV cell of a value, as our CSV writer and csv-stringify (with an ISO date cast) both write it. */
function cell(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

/** Whether session i is a changed row of a corrected file with one row in `every` changed: the middle one of each `every`. */
export function isCorrectedRow(i: number, every: number): boolean {
  return i % every === every >> 1;
}

/**
 * Writes sessions [first, first + n) as a CSV file with a header of column keys (both importers accept keys).
 * With `changedEvery` k, the rows {@link isCorrectedRow} names are of variant `variant + 1`: a corrected file.
 */
export async function writeSessionsCsv(path: string, n: number, variant = 0, first = 0, changedEvery?: number): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  const write = async (s: string) => {
    bytes += Buffer.byteLength(s);
    if (!out.write(s)) await once(out, "drain");
  };
  await write(`${SESSION_COLUMNS.map((c) => c.key).join(",")}\r\n`);
  for (let start = first; start < first + n; start += 1000) {
    let chunk = "";
    for (let i = start; i < Math.min(first + n, start + 1000); i++) {
      const doc = session(i, changedEvery !== undefined && isCorrectedRow(i, changedEvery) ? variant + 1 : variant);
      chunk += `${SESSION_COLUMNS.map((c) => cell(doc[c.key])).join(",")}\r\n`;
    }
    await write(chunk);
  }
  out.end();
  await once(out, "close");
  return bytes;
}
