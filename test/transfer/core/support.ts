/**
 * Test support for the transfer core: a real RecordWriter over the real
 * RecordsService class on a FerretDB test database (plain records go through
 * the shared wire codec, as they will over gRPC), byte helpers, and runners
 * that collect an import's events.
 */
import { create } from "@bufbuild/protobuf";
import { createContextValues, type HandlerContext } from "@connectrpc/connect";
import type { Db } from "mongodb";
import type { FormatPlugin } from "../../../formats/_sdk/index.js";
import { ENTITIES, type EntityName, type EntitySpec } from "../../../services/domain/index.js";
import { RecordsService } from "../../../services/records/records-service.js";
import { ensureIndexes } from "../../../services/records/store/collections.js";
import { decodeRecord, encodeRecord, entityEnum } from "../../../services/shared/records-wire/record-codec.js";
import { writeModeEnum } from "../../../services/shared/records-wire/write-mode-codec.js";
import { defaultFormatsDir, discoverPlugins } from "../../../services/transfer/plugins/index.js";
import {
  createStagingArea,
  runExport,
  runImport,
  type ImportEvent,
  type ImportSettings,
  type RecordWriter,
  type RowErrorEvent,
  type StagingArea,
  type SummaryEvent,
} from "../../../services/transfer/core/index.js";
import { StreamRecordsRequestSchema, WriteRecordsRequestSchema } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { openTestDatabase, type TestDatabase } from "../../support/database.js";
import { pluginsForTests } from "../../support/format-workers.js";
import { asServed } from "../../support/served-records-service.js";

function context(signal: AbortSignal = new AbortController().signal): HandlerContext {
  return { signal, values: createContextValues() } as HandlerContext;
}

async function* once<T>(item: T): AsyncGenerator<T> {
  yield item;
}

/**
 * The RecordWriter the transfer service will implement over the WriteRecords
 * stream, here over the service class in-process: one WriteRecords call per
 * batch, its records encoded for a write (a password is sent, as the
 * transfer service's own writer sends it).
 */
export function recordsWriter(service: RecordsService, spec: EntitySpec, calls?: { count: number }): RecordWriter {
  return {
    async write(records, { mode, dryRun, signal }) {
      if (calls) calls.count++;
      const wire = records.map((record) => encodeRecord(spec, record, "write"));
      const request = create(WriteRecordsRequestSchema, { entity: entityEnum(spec.name), mode: writeModeEnum(mode), dryRun, ordered: false, batchId: "b", records: wire });
      let response;
      for await (const r of service.writeRecords(once(request), context(signal))) response = r;
      if (!response) throw new Error("WriteRecords ended without a response");
      return {
        inserted: response.inserted,
        updated: response.updated,
        unchanged: response.unchanged,
        skipped: response.skipped,
        errors: response.errors.map((e) => ({ index: e.index, field: e.field, reason: e.reason, code: e.code })),
        ...(dryRun ? { noOps: response.noOpIndexes } : {}),
      };
    },
  };
}

/** A records database (with its indexes) and the service over it, plus a separate "transfer" database for staging. */
export interface RecordsFixture {
  t: TestDatabase;
  db: Db;
  transferDb: Db;
  service: RecordsService;
  writer(entity: EntityName, calls?: { count: number }): RecordWriter;
  /** Every record of an entity as plain records (what an export reads), sorted for comparison. */
  readAll(entity: EntityName): Promise<Record<string, unknown>[]>;
  /** The records of an entity as an export's source: batches from StreamRecords. */
  batches(entity: EntityName, batchSize?: number): AsyncGenerator<Record<string, unknown>[]>;
  /** Writes plain records straight through the writer, failing on any error. */
  seed(entity: EntityName, records: Record<string, unknown>[]): Promise<void>;
  count(entity: EntityName): Promise<number>;
  staging(jobId?: string): StagingArea;
  /** Empties the records database (indexes kept). */
  clear(): Promise<void>;
  close(): Promise<void>;
}

let jobs = 0;

export async function openRecords(prefix: string): Promise<RecordsFixture> {
  const t = await openTestDatabase(prefix);
  const transferDb = t.client.db(`${t.name}_transfer`);
  await ensureIndexes(t.db);
  const service = asServed(new RecordsService(t.db));
  const fixture: RecordsFixture = {
    t,
    db: t.db,
    transferDb,
    service,
    writer: (entity, calls) => recordsWriter(service, ENTITIES[entity], calls),
    async readAll(entity) {
      const out: Record<string, unknown>[] = [];
      for await (const batch of fixture.batches(entity)) out.push(...batch);
      return sortRecords(entity, out);
    },
    async *batches(entity, batchSize = 500) {
      const spec = ENTITIES[entity];
      for await (const response of service.streamRecords(create(StreamRecordsRequestSchema, { entity: entityEnum(entity), batchSize }), context())) {
        yield response.records.map((r) => {
          const decoded = decodeRecord(spec, r);
          if (!decoded.ok) throw new Error(decoded.reason);
          return decoded.record;
        });
      }
    },
    async seed(entity, records) {
      const result = await fixture.writer(entity).write(records, { mode: "insert", dryRun: false });
      if (result.errors.length > 0) throw new Error(`seeding ${entity} failed: ${JSON.stringify(result.errors.slice(0, 3))}`);
    },
    count: (entity) => t.db.collection(entity).countDocuments(),
    staging: (jobId = `job${++jobs}`) => createStagingArea(transferDb, jobId),
    async clear() {
      for (const name of Object.keys(ENTITIES)) await t.db.collection(name).deleteMany({});
    },
    async close() {
      await transferDb.dropDatabase().catch(() => undefined);
      await t.close();
    },
  };
  return fixture;
}

/** Sorts records by natural key (activity, whose id is server-assigned, by user, time and action). */
export function sortRecords(entity: EntityName, records: Record<string, unknown>[]): Record<string, unknown>[] {
  const spec = ENTITIES[entity];
  const fields = spec.appendOnly ? ["userId", "at", "action"] : spec.keyFields;
  const keyOf = (r: Record<string, unknown>) => fields.map((f) => (r[f] instanceof Date ? (r[f] as Date).toISOString() : String(r[f]))).join("\u0000");
  return [...records].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
}

let plugins: Map<string, FormatPlugin> | undefined;

/** The shipped plugins, discovered the way the service does (in workers under DX_TEST_FORMAT_WORKERS=workers). */
export async function plugin(name: string): Promise<FormatPlugin> {
  plugins ??= await pluginsForTests(await discoverPlugins([defaultFormatsDir()]));
  const found = plugins.get(name);
  if (!found) throw new Error(`no ${name} plugin`);
  return found;
}

/** Yields `bytes` in pieces of `size`. */
export async function* chunked(bytes: Uint8Array | string, size = 64 * 1024): AsyncGenerator<Uint8Array> {
  const b = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes;
  for (let i = 0; i < b.length; i += size) yield b.slice(i, i + size);
}

export async function concat(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts);
}

export const LIMITS = { maxFileBytes: 64 * 1024 * 1024, maxRowBytes: 1 << 20, maxColumns: 1000 };

/** Import settings with test defaults: insert, lenient, real, no mapping. */
export function importSettings(entity: EntityName, format: FormatPlugin, over: Partial<ImportSettings> = {}): ImportSettings {
  return { entity: ENTITIES[entity], plugin: format, pluginOptions: {}, mode: "insert", strict: false, dryRun: false, limits: LIMITS, ...over };
}

export interface ImportOutcome {
  events: ImportEvent[];
  errors: RowErrorEvent[];
  summary: SummaryEvent;
}

/** Runs an import to its end and sorts its events. */
export async function importAll(
  fx: RecordsFixture,
  input: AsyncIterable<Uint8Array> | Uint8Array | string,
  settings: ImportSettings,
  opts: { chunkSize?: number; writer?: RecordWriter; staging?: StagingArea } = {},
): Promise<ImportOutcome> {
  const source = typeof input === "string" || input instanceof Uint8Array ? chunked(input, opts.chunkSize) : input;
  const events: ImportEvent[] = [];
  for await (const e of runImport(source, settings, opts.writer ?? fx.writer(settings.entity.name), opts.staging ?? fx.staging())) events.push(e);
  const summaries = events.filter((e): e is SummaryEvent => e.kind === "summary");
  if (summaries.length !== 1 || events.at(-1) !== summaries[0]) throw new Error(`expected exactly one summary, last: ${JSON.stringify(events.at(-1))}`);
  return { events, errors: events.filter((e): e is RowErrorEvent => e.kind === "row_error"), summary: summaries[0]! };
}

/** Exports an entity from the fixture's database into one buffer. */
export async function exportAll(
  fx: RecordsFixture,
  entity: EntityName,
  format: FormatPlugin,
  over: { fields?: string[]; pluginOptions?: unknown; labels?: Record<string, string> } = {},
): Promise<Buffer> {
  return concat(runExport(fx.batches(entity), { plugin: format, pluginOptions: over.pluginOptions ?? {}, entity: ENTITIES[entity], fields: over.fields, labels: over.labels, nestedDelimiter: "." }));
}

/** Users as plain records: user1@example.org … */
export function users(from: number, to: number, extra: (n: number) => Record<string, unknown> = () => ({})): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let n = from; n <= to; n++) out.push({ email: `user${n}@example.org`, username: `user${n}`, firstName: "Ada", lastName: `Number ${n}`, role: "student", status: "active", ...extra(n) });
  return out;
}

/** A CSV file of users with the given rows (header uses keys). */
export function usersCsv(rows: Record<string, unknown>[], columns = ["email", "username", "firstName", "lastName", "role", "status"]): string {
  const cell = (v: unknown) => (v === undefined ? "" : `"${String(v).replaceAll('"', '""')}"`);
  return `${[columns.join(","), ...rows.map((r) => columns.map((c) => cell(r[c])).join(","))].join("\r\n")}\r\n`;
}

/** Drops server-assigned fields that differ between two databases. */
export function comparable(entity: EntityName, records: Record<string, unknown>[]): Record<string, unknown>[] {
  return sortRecords(
    entity,
    records.map((r) => {
      // Server-set change times differ by design: the target stored its records later.
      const { updatedAt: _u, recordedAt: _r, ...rest } = r;
      if (entity === "activity") delete rest.id;
      return rest;
    }),
  );
}
