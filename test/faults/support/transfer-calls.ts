/**
 * What a client of the services does in the fault tests: an import over the
 * Import RPC (gRPC, as the `dx` CLI and backends call it), GetJob, any other
 * call through a Connect client, and a file of courses with known keys to
 * import and count afterwards.
 */
import { createClient, ConnectError, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Entity, WriteMode } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { JobState, TransferService, type ImportRequest, type ImportSummary, type Job } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { waitFor } from "./fault-stack.js";
import { create, type DescService } from "@bufbuild/protobuf";
import { ImportRequestSchema } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";

export type TransferClient = Client<typeof TransferService>;

export function transferClient(url: string, token: string): TransferClient {
  return serviceClient(TransferService, url, token);
}

/**
 * `code,title` rows `<prefix>000000`…: a CSV of `n` courses, each key known.
 * Each test takes its own prefix, so tests sharing a database count only
 * their own rows ({@link coursesWithPrefix}).
 */
export function coursesCsv(n: number, prefix: string, descriptionBytes = 0): Buffer {
  const lines = [descriptionBytes > 0 ? "code,title,description" : "code,title"];
  const description = descriptionBytes > 0 ? `,${"d".repeat(descriptionBytes)}` : "";
  for (let i = 0; i < n; i++) lines.push(`${prefix}${String(i).padStart(6, "0")},Course ${i}${description}`);
  return Buffer.from(`${lines.join("\n")}\n`, "utf8");
}

/** The filter of the courses whose code starts with `prefix` (a range, which the key index serves). */
export function coursesWithPrefix(prefix: string): { code: { $gte: string; $lt: string } } {
  return { code: { $gte: prefix, $lt: `${prefix}\uffff` } };
}

export interface ImportOutcome {
  jobId?: string;
  summary?: ImportSummary;
  error?: ConnectError;
  rowErrors: number;
}

export const MODES = { insert: WriteMode.INSERT, upsert: WriteMode.UPSERT } as const;

/** Imports `file` as courses over the Import RPC; the error (if any) is returned, not thrown. */
export async function importCourses(
  client: TransferClient,
  file: Buffer,
  mode: keyof typeof MODES,
  options: { signal?: AbortSignal; timeoutMs?: number; onProgress?: (rowsRead: number) => void } = {},
): Promise<ImportOutcome> {
  async function* requests(): AsyncGenerator<ImportRequest> {
    yield create(ImportRequestSchema, { message: { case: "header", value: { entity: Entity.COURSES, format: "csv", mode: MODES[mode], strict: false } } });
    for (let offset = 0; offset < file.byteLength; offset += 64 * 1024) {
      yield create(ImportRequestSchema, { message: { case: "chunk", value: file.subarray(offset, offset + 64 * 1024) } });
    }
  }
  const outcome: ImportOutcome = { rowErrors: 0 };
  try {
    for await (const response of client.import(requests(), { signal: options.signal, timeoutMs: options.timeoutMs })) {
      if (response.event.case === "started") outcome.jobId = response.event.value.jobId;
      else if (response.event.case === "rowError") outcome.rowErrors++;
      else if (response.event.case === "progress") options.onProgress?.(Number(response.event.value.rowsRead));
      else if (response.event.case === "summary") outcome.summary = response.event.value;
    }
  } catch (error) {
    outcome.error = ConnectError.from(error);
  }
  return outcome;
}

export async function getJob(client: TransferClient, jobId: string): Promise<Job> {
  const { job } = await client.getJob({ jobId });
  if (!job) throw new Error(`no job ${jobId}`);
  return job;
}

/** A Connect client of any service at `url` (gRPC over h2c), with a bearer token when given. */
export function serviceClient<T extends DescService>(service: T, url: string, token?: string): Client<T> {
  return createClient(
    service,
    createGrpcTransport({
      baseUrl: url,
      interceptors: token
        ? [
            (next) => (req) => {
              req.header.set("authorization", `Bearer ${token}`);
              return next(req);
            },
          ]
        : [],
    }),
  );
}

/** Waits (up to `ms`) until a job is no longer running, and returns it. */
export function endedJob(client: TransferClient, jobId: string, ms = 60_000): Promise<Job> {
  return waitFor(
    `job ${jobId} to end`,
    async () => {
      const job = await getJob(client, jobId);
      return job.state === JobState.RUNNING ? undefined : job;
    },
    ms,
    100,
  );
}
