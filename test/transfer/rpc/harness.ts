/**
 * Both services in-process on port 0, on the run's real FerretDB: a records
 * server over its own database and a transfer server over another, with the
 * clients the tests drive them with (Connect over gRPC, Connect protocol in
 * JSON and binary, plain @grpc/grpc-js) and helpers to seed records and to
 * run whole exports and imports.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { EntityRecordSchema, Entity, RecordsService, WriteMode, type EntityRecord } from "../../../gen/dataexchange/records/v1/records_pb.js";
import {
  type ExportRequestSchema,
  ImportHeaderSchema,
  TransferService,
  type ExportHeader,
  type ExportProgress,
  type ExportSummary,
  type ImportResponse,
  type ImportSummary,
  type RowError,
} from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { buildRecordsServer, type RunningRecordsServer } from "../../../services/records/server.js";
import { ensureIndexes } from "../../../services/records/store/collections.js";
import type { TransferConfigInput } from "../../../services/transfer/config/transfer-config.js";
import type { DiscoveredPlugins } from "../../../services/transfer/plugins/index.js";
import { buildTransferServer, type RunningTransferServer } from "../../../services/transfer/server.js";
import type { WebUiOptions } from "../../../services/transfer/api/http/web-ui.js";
import { openTestDatabase, type TestDatabase } from "../../support/database.js";
import { testServiceLogger } from "../../support/service-logger.js";
import type { Logger } from "../../../services/shared/logging/index.js";
import { withTestFormatWorkers } from "../../support/format-workers.js";

export type TransferClient = Client<typeof TransferService>;
export type RecordsClient = Client<typeof RecordsService>;

export interface Services {
  records: RunningRecordsServer;
  transfer: RunningTransferServer;
  recordsDb: TestDatabase;
  transferDb: TestDatabase;
  /** Connect client, gRPC protocol over HTTP/2. */
  client: TransferClient;
  /** Connect client, Connect protocol (JSON) over HTTP/2. */
  connectJson: TransferClient;
  /** Connect client, Connect protocol (binary) over HTTP/2. */
  connectBinary: TransferClient;
  recordsClient: RecordsClient;
  close(): Promise<void>;
}

export interface ServiceOptions {
  config?: TransferConfigInput;
  plugins?: DiscoveredPlugins;
  /** Interceptors of the records server (tests that watch the calls it serves). */
  recordsInterceptors?: Interceptor[];
  /** The transfer server's logger (tests that read back what it logged); default the run's capture only. */
  transferLogger?: Logger;
  /** Serve a web UI build at `/` (test/transfer/http/web-ui.test.ts). */
  webUi?: WebUiOptions;
}

/** The header the tests use to say who is calling (auth lands later). */
export const SUBJECT_HEADER = "x-test-subject";

export async function startServices(options: ServiceOptions = {}): Promise<Services> {
  const recordsDb = await openTestDatabase("tr_records");
  const transferDb = await openTestDatabase("tr_jobs");
  await ensureIndexes(recordsDb.db);
  // Both log as in production, into the run's capture only (checked for secrets at the end of the run).
  const records = await buildRecordsServer({ db: recordsDb.db, port: 0, interceptors: options.recordsInterceptors, logger: testServiceLogger("records") });
  const transfer = await buildTransferServer({
    db: transferDb.db,
    recordsUrl: records.url,
    config: withTestFormatWorkers(options.config),
    plugins: options.plugins,
    port: 0,
    subjectOf: (req) => {
      const value = req.headers[SUBJECT_HEADER];
      return typeof value === "string" ? value : undefined;
    },
    logger: options.transferLogger ?? testServiceLogger("transfer"),
    webUi: options.webUi,
  });
  return {
    records,
    transfer,
    recordsDb,
    transferDb,
    client: createClient(TransferService, createGrpcTransport({ baseUrl: transfer.url })),
    connectJson: createClient(TransferService, createConnectTransport({ baseUrl: transfer.url, httpVersion: "2" })),
    connectBinary: createClient(TransferService, createConnectTransport({ baseUrl: transfer.url, httpVersion: "2", useBinaryFormat: true })),
    recordsClient: createClient(RecordsService, createGrpcTransport({ baseUrl: records.url })),
    async close() {
      await transfer.close();
      await records.close();
      await transferDb.close();
      await recordsDb.close();
    },
  };
}

type RecordInit = MessageInitShape<typeof EntityRecordSchema>;

export function user(n: number | string, extra: Record<string, unknown> = {}): EntityRecord {
  return create(EntityRecordSchema, {
    kind: {
      case: "user",
      value: {
        email: `user${n}@example.org`,
        username: `user${n}`,
        firstName: "Ada",
        lastName: `Number ${n}`,
        role: "student",
        status: n.toString().endsWith("7") ? "suspended" : "active",
        createdAt: timestampFromDate(new Date(Date.UTC(2024, 0, 1, 0, Number(n) || 0))),
        ...extra,
      },
    },
  } as RecordInit);
}

export function course(code: string): EntityRecord {
  return create(EntityRecordSchema, { kind: { case: "course", value: { code, title: `Course ${code}`, visible: true } } } as RecordInit);
}

export function session(id: string, userId: string, courseId: string, extra: Record<string, unknown> = {}): EntityRecord {
  return create(EntityRecordSchema, {
    kind: {
      case: "session",
      value: {
        sessionId: id,
        userId,
        courseId,
        startedAt: timestampFromDate(new Date("2024-02-01T10:00:00Z")),
        endedAt: timestampFromDate(new Date("2024-02-01T11:30:00.250Z")),
        status: "completed",
        score: 71.5,
        ...extra,
      },
    },
  } as RecordInit);
}

/** Writes records straight to the records service, in batches of 1000. */
export async function seed(client: RecordsClient, entity: Entity, records: EntityRecord[]): Promise<void> {
  const requests = (async function* () {
    for (let i = 0; i < records.length; i += 1000) yield { entity, mode: WriteMode.UPSERT, batchId: String(i), records: records.slice(i, i + 1000) };
  })();
  for await (const response of client.writeRecords(requests)) {
    if (response.failed > 0) throw new Error(`seeding failed: ${JSON.stringify(response.errors.slice(0, 3))}`);
  }
}

export interface ExportResult {
  header: ExportHeader;
  bytes: Buffer;
  chunks: number;
  progress: ExportProgress[];
  summary: ExportSummary;
  order: string[];
}

/** Runs an export to its end and gathers the file. */
export async function exportFile(client: TransferClient, request: MessageInitShape<typeof ExportRequestSchema>, headers?: Record<string, string>): Promise<ExportResult> {
  let header: ExportHeader | undefined;
  let summary: ExportSummary | undefined;
  const parts: Uint8Array[] = [];
  const progress: ExportProgress[] = [];
  const order: string[] = [];
  for await (const response of client.export(request, { headers })) {
    const event = response.event;
    if (event.case) order.push(event.case);
    if (event.case === "header") header = event.value;
    else if (event.case === "chunk") parts.push(event.value);
    else if (event.case === "progress") progress.push(event.value);
    else if (event.case === "summary") summary = event.value;
  }
  if (!header || !summary) throw new Error(`incomplete export: ${order.join(",")}`);
  return { header, bytes: Buffer.concat(parts), chunks: parts.length, progress, summary, order };
}

export interface ImportResult {
  jobId: string;
  rowErrors: RowError[];
  progress: number;
  summary?: ImportSummary;
  events: ImportResponse[];
}

/** Splits a file into chunks of `chunkSize` bytes (small ones cross every boundary). */
export function* chunksOf(bytes: Uint8Array, chunkSize: number): Generator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += chunkSize) yield bytes.subarray(i, Math.min(i + chunkSize, bytes.byteLength));
}

/** Runs an import through the bidi RPC: the header, then the file in chunks. */
export async function importFile(
  client: TransferClient,
  header: MessageInitShape<typeof ImportHeaderSchema>,
  file: Uint8Array | string,
  options: { chunkSize?: number; headers?: Record<string, string> } = {},
): Promise<ImportResult> {
  const bytes = typeof file === "string" ? Buffer.from(file, "utf8") : file;
  const requests = (async function* () {
    yield { message: { case: "header" as const, value: create(ImportHeaderSchema, header) } };
    for (const chunk of chunksOf(bytes, options.chunkSize ?? 64 * 1024)) yield { message: { case: "chunk" as const, value: chunk } };
  })();
  const result: ImportResult = { jobId: "", rowErrors: [], progress: 0, events: [] };
  for await (const response of client.import(requests, { headers: options.headers })) {
    result.events.push(response);
    const event = response.event;
    if (event.case === "started") result.jobId = event.value.jobId;
    else if (event.case === "rowError") result.rowErrors.push(event.value);
    else if (event.case === "progress") result.progress++;
    else if (event.case === "summary") result.summary = event.value;
  }
  return result;
}

/** Polls until `check` holds (or fails after `ms`). */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

export { Entity, WriteMode };
