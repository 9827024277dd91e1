/**
 * The staging area behind strict imports: the rows that passed validation,
 * parked in the transfer service's own database until the whole file is known
 * to be good, then replayed to the records service in order.
 *
 * There are no transactions to lean on (FerretDB has none, and a sharded
 * MongoDB makes them costly), and holding the rows in memory would break the
 * flat-memory rule for large files, so they go to a `staging_<jobId>`
 * collection that the import drops in `finally`.
 *
 * Write-only values (passwords) must not rest in a database in clear text,
 * even briefly: they are given as `secrets` and sealed with AES-256-GCM under
 * a key that exists only in this object's memory. A crash leaves an orphaned
 * collection whose secrets nobody can read.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { cursorBatches } from "../../shared/mongo/cursor-batches.js";
import { Binary, MongoServerError, type Collection, type Db } from "mongodb";

export interface StagedRow {
  /** The file's row number, for reports on errors during replay. */
  row: number;
  line?: number;
  /** The validated record without its secrets. */
  record: Record<string, unknown>;
  /** Write-only values (field → value), sealed while staged. */
  secrets?: Record<string, string>;
}

export interface StagingArea {
  /** The collection's name, for logs and clean-up tools. */
  readonly name: string;
  /** Rows staged so far. */
  readonly size: number;
  /** Appends rows; replay returns them in the order they were added. */
  add(rows: readonly StagedRow[]): Promise<void>;
  /** Streams the staged rows back, `batchSize` per batch; the cursor is closed when the caller stops. */
  replay(batchSize: number): AsyncGenerator<StagedRow[]>;
  /** Drops the collection, once the adds still running have ended. Safe to call twice, or when nothing was staged. */
  drop(): Promise<void>;
}

interface StagedDocument {
  _id: number;
  row: number;
  line?: number;
  record: Record<string, unknown>;
  sealed?: Binary;
}

const JOB_ID = /^[A-Za-z0-9_-]{1,100}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A staging area for one job, in `db` (the transfer service's own database, never the records'). */
export function createStagingArea(db: Db, jobId: string): StagingArea {
  if (!JOB_ID.test(jobId)) throw new TypeError(`a job id must be 1–100 letters, digits, _ or -; got ${JSON.stringify(jobId)}`);
  const name = `staging_${jobId}`;
  const collection: Collection<StagedDocument> = db.collection<StagedDocument>(name);
  const key = randomBytes(32);
  let size = 0;
  let used = false;
  let cleared: Promise<void> | undefined;
  /** Adds not finished yet: drop() waits for them, since an insert after the drop would create the collection again. */
  const adding = new Set<Promise<void>>();

  const seal = (secrets: Record<string, string>): Binary => {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(secrets), "utf8"), cipher.final()]);
    return new Binary(Buffer.concat([iv, cipher.getAuthTag(), body]));
  };
  const unseal = (sealed: Binary): Record<string, string> => {
    const bytes = Buffer.from(sealed.buffer);
    const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, IV_BYTES));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return JSON.parse(Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8")) as Record<string, string>;
  };

  const addRows = async (rows: readonly StagedRow[]): Promise<void> => {
    if (rows.length === 0) return;
    // Ids are reserved before the first await: an import keeps several batches in flight, and
    // concurrent adds must neither share ids nor change the order replay returns.
    const first = size;
    size += rows.length;
    // A collection left by a crashed run of the same job id holds rows sealed under a lost key: start clean (once).
    cleared ??= dropCollection(collection);
    used = true;
    await cleared;
    const docs: StagedDocument[] = rows.map((r, i) => {
      const doc: StagedDocument = { _id: first + i, row: r.row, record: r.record };
      if (r.line !== undefined) doc.line = r.line;
      if (r.secrets !== undefined && Object.keys(r.secrets).length > 0) doc.sealed = seal(r.secrets);
      return doc;
    });
    await collection.insertMany(docs, { ordered: true, ignoreUndefined: true });
  };

  return {
    name,
    get size() {
      return size;
    },
    add(rows) {
      const added = addRows(rows);
      adding.add(added);
      const forget = () => void adding.delete(added);
      added.then(forget, forget);
      return added;
    },
    async *replay(batchSize) {
      if (!used) return;
      yield* cursorBatches(collection.find({}, { sort: { _id: 1 }, batchSize }), batchSize, (doc): StagedRow => {
        const row: StagedRow = { row: doc.row, record: doc.record };
        if (doc.line !== undefined && doc.line !== null) row.line = doc.line;
        if (doc.sealed) row.secrets = unseal(doc.sealed);
        return row;
      });
    },
    async drop() {
      // A cancelled import drops as soon as its write fails, while that batch's rows may still be on their way here.
      await Promise.allSettled([...adding]);
      if (!used) return;
      await dropCollection(collection);
      used = false;
      cleared = undefined;
      size = 0;
    },
  };
}

/** Drops a collection; one that does not exist is already dropped. */
async function dropCollection(collection: Collection<StagedDocument>): Promise<void> {
  try {
    await collection.drop();
  } catch (err) {
    if (!(err instanceof MongoServerError && (err.code === 26 || /not found/i.test(err.message)))) throw err;
  }
}
