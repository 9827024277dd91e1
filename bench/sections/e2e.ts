/**
 * End to end: client → transfer service → records service → database, each
 * its own process, both services started fresh for every measured run.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import { join } from "node:path";
import { EXPORT_DB, IMPORT_DB, resetImportSessions, startRecords, type BenchContext } from "../lib/context.js";
import { REPO, runWorker, startService, type Service } from "../lib/processes.js";
import type { Sample, Variant } from "../lib/rounds.js";

const execFileAsync = promisify(execFile);

/** Extra parties a phase can run beside the baselines. */
export interface Parties {
  available: boolean;
  label?: string;
  why?: string;
  exportVariants?: (formats: ("csv" | "ndjson")[]) => Variant[];
  importVariants?: (mode: "insert" | "upsert", file: string, rows: number) => Variant[];
  memoryVariants?: (tenth: number) => Variant[];
}

let transferDbs = 0;

/**
 * A development bearer token for the transfer service (scripts/token.ts,
 * signed with the development key that dev mode trusts), or undefined when
 * the repository has no token script (auth not there yet).
 */
export async function mintToken(ctx: BenchContext): Promise<string | undefined> {
  if (!existsSync(join(REPO, "scripts/token.ts"))) return undefined;
  const { stdout } = await execFileAsync(process.execPath, ["--import", "tsx", join(REPO, "scripts/token.ts"), "--roles", "admin", "--aud", "transfer", "--sub", "bench", "--ttl", "86400"], {
    cwd: REPO,
  });
  const token = stdout.trim().split("\n").pop()!;
  ctx.log(`minted a development token for the transfer service (roles admin, ${token.length} chars)`);
  return token;
}

/**
 * A transfer service on its own fresh database each time: its job store
 * creates several indexes in one createIndexes command at start, which
 * FerretDB 1.24 cannot repeat over existing indexes (see records-main.ts).
 */
export function startTransfer(ctx: BenchContext, recordsUrl: string): Promise<Service> {
  return startService({
    name: "transfer",
    entry: "services/transfer/server.ts",
    env: {
      MONGODB_URI: ctx.uri,
      TRANSFER_DATABASE: `bench_transfer_${++transferDbs}`,
      TRANSFER_PORT: "0",
      TRANSFER_HOST: "127.0.0.1",
      TRANSFER_RECORDS_URL: recordsUrl,
      TRANSFER_IMPORT_MAX_FILE_MB: "100000",
      // Dev mode: trust the development key that scripts/token.ts signs with.
      DX_AUTH_DEV: "1",
    },
    ready: /listening on (http:\/\/[^\s]+)/,
    nodeFlags: [...ctx.options.serviceFlags, ...ctx.options.transferFlags],
    fromSource: ctx.options.fromSource,
  });
}

/** Fresh records and transfer services on `database` for one measured run; the sample has each one's peak RSS and CPU time. */
export async function withServices(
  ctx: BenchContext,
  database: string,
  work: (transferUrl: string, recordsUrl: string) => Promise<Omit<Sample, "rss" | "cpu"> & { rssMb: number; cpuMs?: number }>,
): Promise<Sample> {
  const records = await startRecords(ctx, database);
  let transfer: Service | undefined;
  let sample: Sample;
  try {
    transfer = await startTransfer(ctx, records.url);
    const t = transfer;
    const r = await work(transfer.url, records.url).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\ntransfer output: ${t.output().slice(-1500)}\nrecords output: ${records.output().slice(-1500)}`);
    });
    sample = {
      records: r.records,
      bytes: r.bytes,
      ms: r.ms,
      extra: r.extra,
      rss: { transfer: transfer.peakRssMb(), records: records.peakRssMb(), client: r.rssMb },
      cpu: { transfer: transfer.workCpuMs(), records: records.workCpuMs(), client: r.cpuMs },
    };
  } finally {
    await transfer?.stop();
    await records.stop();
  }
  // Services started with bench/lib/event-loop-probe.mjs print their event loop's figures as they exit.
  const eventLoop = { transfer: await eventLoopOf(transfer!), records: await eventLoopOf(records) };
  if (eventLoop.transfer || eventLoop.records) sample.extra = { ...sample.extra, eventLoop };
  return sample;
}

/** The figures bench/lib/event-loop-probe.mjs printed as the service exited, if it was loaded (its output may trail the exit a little). */
export async function eventLoopOf(service: Service): Promise<EventLoopFigures | undefined> {
  for (let wait = 0; wait < 10; wait++) {
    const figures = eventLoopFiguresIn(service.output());
    if (figures) return figures;
    if (!hasProbe(service)) return undefined;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

/** The figures in the line bench/lib/event-loop-probe.mjs prints (one flat object), if `output` holds it. */
export function eventLoopFiguresIn(output: string): EventLoopFigures | undefined {
  const line = /\{"benchEventLoop":(\{[^}]*\})\}/.exec(output);
  return line ? (JSON.parse(line[1]!) as EventLoopFigures) : undefined;
}

function hasProbe(service: Service): boolean {
  return service.nodeFlags.some((f) => f.includes("event-loop-probe"));
}

/**
 * What bench/lib/event-loop-probe.mjs reports: event-loop delay percentiles and how busy the loop
 * was; on Linux also its stalls (intervals of its 5 ms timer that fired ≥ 20 ms late), their
 * length in all, and how much of it the main thread ran and how much it waited for a core.
 */
export interface EventLoopFigures {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  utilization: number;
  stalls?: number;
  stalledMs?: number;
  stalledRunningMs?: number;
  stalledWaitingMs?: number;
}

function e2eExport(ctx: BenchContext, token: string | undefined, format: "csv" | "ndjson", limit?: number): Variant {
  return {
    id: `e2e-export-${format}${limit ? `-${limit}` : ""}`,
    run: () => withServices(ctx, EXPORT_DB, (url) => runWorker("bench/workers/e2e-export.ts", { url, format, out: join(ctx.tmp, `e2e.${format}`), limit, token })),
  };
}

function e2eImport(ctx: BenchContext, token: string | undefined, mode: "insert" | "upsert", file: string, rows: number, id = `e2e-import-${mode}`): Variant {
  return {
    id,
    prepare: () => resetImportSessions(ctx),
    run: () =>
      withServices(ctx, IMPORT_DB, async (url) => {
        const r = await runWorker("bench/workers/e2e-import.ts", { url, file, mode, token });
        const s = r.extra as { inserted: number; updated: number; failed: number; rowErrors: number; firstError?: string };
        if (s.inserted + s.updated !== rows) throw new Error(`end-to-end import (${mode}) wrote ${s.inserted + s.updated} of ${rows} rows: ${JSON.stringify(s)}`);
        return r;
      }),
  };
}

export async function e2eParties(ctx: BenchContext): Promise<Parties> {
  if (!existsSync(join(REPO, "services/transfer/server.ts"))) {
    return { available: false, label: "end to end", why: "services/transfer/server.ts does not exist yet: the end-to-end rows are not measurable in this run" };
  }
  let token: string | undefined;
  try {
    token = await mintToken(ctx);
  } catch (error) {
    return { available: false, label: "end to end", why: `could not mint a token with scripts/token.ts: ${error instanceof Error ? error.message : String(error)}` };
  }
  return {
    available: true,
    label: "end to end",
    exportVariants: (formats) => formats.map((format) => e2eExport(ctx, token, format)),
    importVariants: (mode, file, rows) => [e2eImport(ctx, token, mode, file, rows)],
    memoryVariants: (tenth) => [e2eExport(ctx, token, "csv", tenth), e2eImport(ctx, token, "insert", ctx.files.csvTenth, tenth, "e2e-import-insert-tenth")],
  };
}
