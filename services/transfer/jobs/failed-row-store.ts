/**
 * The rejected rows of an import job, kept as the file had them, so that
 * GetFailedRows can hand them back as a file of the upload's own format
 * (failed-rows-file.ts): the user fixes the cells and uploads that file as it
 * is. `job_failed_rows` holds one document per rejected row (its cells as
 * JSON text: file column names are user-chosen and may hold `.` or `$`, which
 * no MongoDB-compatible store takes as keys) and one header document per job
 * (seq 0: the file's column names, the options the reader detected), written
 * when the import ends.
 *
 * Write-only cells (passwords) are never stored: the reporter withholds them
 * before they get here, and the row says which cells were withheld.
 */
import type { Collection, Db, Document } from "mongodb";
import type { ReadEncoding } from "../../../formats/_sdk/index.js";
import { ensureCollectionIndexes } from "../../shared/mongo/ensure-indexes.js";
import type { FailedRowEvent } from "../core/import-events.js";

export interface FailedRowDocument {
  jobId: string;
  /** 0: the header document; 1…: rejected rows in the order found. */
  seq: number;
  row?: number;
  line?: number;
  /** The row's cells as JSON text of `[name, value]` pairs, in the file's order; absent when the reader could place none. */
  cells?: string;
  errors?: string[];
  withheld?: string[];
  /** The row's personal values (emails, names), so views withhold them from readers without `pii`; never shown. */
  personal?: string[];
  /** Header document: the file's column names (tabular formats). */
  names?: string[];
  /** Header document: options the reader detected, as JSON text. */
  detected?: string;
  encoding?: ReadEncoding;
  /** Header document: rows rejected beyond the cap, not kept. */
  dropped?: number;
}

/** What the header document says about the file. */
export interface FailedRowsHeader {
  names?: string[];
  detected?: Record<string, unknown>;
  encoding?: ReadEncoding;
  dropped: number;
}

/** A rejected row as read back. */
export interface FailedRow {
  row: number;
  line?: number;
  values?: Record<string, unknown>;
  errors: string[];
  withheld: string[];
  personal: string[];
}

const FLUSH_ROWS = 500;
/** Rows can be large (up to the row limit): a batch is also flushed at this many bytes of cells. */
const FLUSH_BYTES = 4 * 1024 * 1024;

export class FailedRowStore {
  readonly collection: Collection<FailedRowDocument>;

  constructor(
    db: Db,
    /** Rows kept per job; later ones are counted only. */
    readonly maxRows = 100_000,
  ) {
    this.collection = db.collection<FailedRowDocument>("job_failed_rows");
  }

  async ensureIndexes(): Promise<void> {
    await ensureCollectionIndexes(this.collection as unknown as Collection<Document>, [{ key: { jobId: 1, seq: 1 }, name: "job_seq", unique: true }]);
  }

  sink(jobId: string): FailedRowSink {
    return new FailedRowSink(this, jobId);
  }

  /** The header document, or undefined when the job kept no rows (an export, or an import from before rows were kept). */
  async header(jobId: string): Promise<FailedRowsHeader | undefined> {
    const doc = await this.collection.findOne({ jobId, seq: 0 });
    if (!doc) return undefined;
    return { names: doc.names, detected: doc.detected ? (JSON.parse(doc.detected) as Record<string, unknown>) : undefined, encoding: doc.encoding, dropped: doc.dropped ?? 0 };
  }

  /** The rejected rows in the order found, read in batches. */
  async *rows(jobId: string): AsyncGenerator<FailedRow> {
    const cursor = this.collection.find({ jobId, seq: { $gt: 0 } }, { sort: { seq: 1 }, batchSize: 200 });
    try {
      for await (const doc of cursor) {
        const row: FailedRow = { row: doc.row ?? 0, errors: doc.errors ?? [], withheld: doc.withheld ?? [], personal: doc.personal ?? [] };
        if (doc.line !== undefined && doc.line !== null) row.line = doc.line;
        if (doc.cells !== undefined) row.values = fromPairs(JSON.parse(doc.cells) as [string, unknown][]);
        yield row;
      }
    } finally {
      await cursor.close();
    }
  }
}

/** Collects one job's rejected rows, written in batches (flat memory), up to the store's cap. */
export class FailedRowSink {
  private buffer: FailedRowDocument[] = [];
  private bytes = 0;
  private count = 0;

  constructor(
    private readonly store: FailedRowStore,
    private readonly jobId: string,
  ) {}

  async add(event: FailedRowEvent): Promise<void> {
    this.count++;
    if (this.count > this.store.maxRows) return;
    const doc: FailedRowDocument = { jobId: this.jobId, seq: this.count, row: event.row, errors: event.errors };
    if (event.line !== undefined) doc.line = event.line;
    if (event.values !== undefined) {
      doc.cells = JSON.stringify(Object.keys(event.values).map((k) => [k, event.values![k]]));
      this.bytes += doc.cells.length;
    }
    if (event.withheld?.length) doc.withheld = event.withheld;
    if (event.personal?.length) doc.personal = event.personal;
    this.buffer.push(doc);
    if (this.buffer.length >= FLUSH_ROWS || this.bytes >= FLUSH_BYTES) await this.flush();
  }

  /** Writes what is buffered and the header document (once the import knows the file's header). */
  async finish(header: { names?: string[]; detected?: Record<string, unknown>; encoding?: ReadEncoding }): Promise<void> {
    await this.flush();
    const doc: FailedRowDocument = { jobId: this.jobId, seq: 0 };
    if (header.names) doc.names = header.names;
    if (header.detected) doc.detected = JSON.stringify(header.detected);
    if (header.encoding) doc.encoding = header.encoding;
    if (this.count > this.store.maxRows) doc.dropped = this.count - this.store.maxRows;
    await this.store.collection.replaceOne({ jobId: this.jobId, seq: 0 }, doc, { upsert: true });
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.bytes = 0;
    await this.store.collection.insertMany(batch, { ordered: false });
  }
}

function fromPairs(pairs: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // defineProperty: an own "__proto__" key stays a value.
  for (const [k, v] of pairs) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}
