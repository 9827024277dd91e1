/**
 * Property-based fuzzing of the real import path (fast-check): generated and
 * mutated CSV, JSON and NDJSON course files (import-cases.ts) go through a
 * real transfer service and records service on the run's FerretDB — over the
 * bidi RPC in chunks of any size, or as a multipart upload — and every case
 * must hold:
 *
 * 1. never a 5xx, INTERNAL or UNKNOWN, nor any other sign of an uncaught
 *    error: a bad file is the caller's problem, answered 4xx / INVALID_ARGUMENT
 *    / RESOURCE_EXHAUSTED;
 * 2. every row read is either imported or reported: inserted + updated +
 *    unchanged + skipped + failed = read, and the rows reported are exactly
 *    `failed` of them;
 * 3. the job record says what the client was told, counts and state, at the
 *    moment it was told;
 * 4. what is stored is what the summary says, and for row cases exactly the
 *    file's valid rows with their values (the oracle in import-cases.ts); for
 *    byte cases nothing stored contains a U+FFFD the file did not.
 *
 * The number of cases is bounded for CI and the seed fixed, so a run is
 * reproducible; `DX_FUZZ_RUNS=<n>` runs more and `DX_FUZZ_SEED=<n>` (or
 * `random`) changes the seed. A failure prints the seed and fast-check's
 * path, and the smallest case it shrank to.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { Entity, WriteMode } from "../../gen/dataexchange/records/v1/records_pb.js";
import { ImportHeaderSchema, JobState } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import type { RowCounts } from "../../services/domain/index.js";
import { startServices, type Services } from "../transfer/rpc/harness.js";
import { describeCase, expectedOutcome, fileOf, importCases, MAX_ROW_BYTES, type ImportCase } from "./import-cases.js";

const RUNS = Number(process.env.DX_FUZZ_RUNS ?? 60);
const SEED = process.env.DX_FUZZ_SEED === "random" ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.DX_FUZZ_SEED ?? 20_261_201);

let s: Services;

beforeAll(async () => {
  s = await startServices({ config: { importMaxRowBytes: MAX_ROW_BYTES, importMaxFileMb: 1, jobs: { progressSaveMs: 20 } } });
});
afterAll(async () => s?.close());

/** What the client heard, whichever way the file went. */
interface Heard {
  jobId?: string;
  summary?: RowCounts & { state: "succeeded" | "failed"; strictAborted: boolean };
  errorRows: number[];
  /** The RPC status (code name) or HTTP status the call ended with; "ok" / "200" when it succeeded. */
  status: string;
  message?: string;
}

const STATES: Record<number, "succeeded" | "failed"> = { [JobState.SUCCEEDED]: "succeeded", [JobState.FAILED]: "failed" };
/** What a bad file may be answered with. */
const CLIENT_CODES = new Set(["ok", Code[Code.InvalidArgument], Code[Code.ResourceExhausted], Code[Code.FailedPrecondition]]);

function formatOptions(c: ImportCase): Record<string, string> {
  // Row cases name the delimiter (their text is random; sniffing it is a guess); byte cases leave it to the sniffer.
  return c.format === "csv" && c.mutations.length === 0 ? { delimiter: "," } : {};
}

async function viaRpc(c: ImportCase, file: Buffer, chunkSize: number): Promise<Heard> {
  const size = Math.max(chunkSize, Math.ceil(file.length / 300));
  const requests = (async function* () {
    const header = { entity: Entity.COURSES, format: c.format, mode: c.mode === "insert" ? WriteMode.INSERT : WriteMode.UPSERT, strict: c.strict, dryRun: c.dryRun, formatOptions: formatOptions(c) };
    yield { message: { case: "header" as const, value: create(ImportHeaderSchema, header) } };
    for (let i = 0; i < file.length; i += size) yield { message: { case: "chunk" as const, value: file.subarray(i, i + size) } };
  })();
  const heard: Heard = { errorRows: [], status: "ok" };
  try {
    for await (const r of s.client.import(requests)) {
      const e = r.event;
      if (e.case === "started") heard.jobId = e.value.jobId;
      else if (e.case === "rowError") heard.errorRows.push(Number(e.value.row));
      else if (e.case === "summary") {
        const v = e.value;
        heard.summary = {
          state: STATES[v.state]!,
          strictAborted: v.strictAborted,
          read: Number(v.read),
          inserted: Number(v.inserted),
          updated: Number(v.updated),
          unchanged: Number(v.unchanged),
          skipped: Number(v.skipped),
          failed: Number(v.failed),
        };
      }
    }
  } catch (error) {
    const e = ConnectError.from(error);
    heard.status = Code[e.code];
    heard.message = e.rawMessage;
  }
  return heard;
}

async function viaHttp(c: ImportCase, file: Buffer): Promise<Heard> {
  const form = new FormData();
  form.set("entity", "courses");
  form.set("format", c.format);
  form.set("mode", c.mode);
  form.set("strict", String(c.strict));
  form.set("dry_run", String(c.dryRun));
  form.set("options", JSON.stringify(formatOptions(c)));
  form.set("file", new Blob([file]), `courses.${c.format}`);
  const response = await fetch(`${s.transfer.url}/import`, { method: "POST", body: form });
  const body = (await response.json()) as Record<string, unknown>;
  const heard: Heard = {
    jobId: typeof body.jobId === "string" ? body.jobId : undefined,
    errorRows: ((body.errors as { row: number }[] | undefined) ?? []).map((e) => e.row),
    status: String(response.status),
  };
  if (typeof body.read === "number") {
    const n = (k: string) => body[k] as number;
    heard.summary = {
      state: body.state as "succeeded" | "failed",
      strictAborted: body.strictAborted === true,
      read: n("read"),
      inserted: n("inserted"),
      updated: n("updated"),
      unchanged: n("unchanged"),
      skipped: n("skipped"),
      failed: n("failed"),
    };
  }
  if (response.status >= 300) heard.message = String(body.message ?? "");
  return heard;
}

/** The courses the records service holds, by code. */
async function storedCourses(): Promise<Map<string, { title: string; description: string; visible: boolean }>> {
  const stored = new Map<string, { title: string; description: string; visible: boolean }>();
  for await (const batch of s.recordsClient.streamRecords({ entity: Entity.COURSES })) {
    for (const r of batch.records) {
      if (r.kind.case !== "course") continue;
      const v = r.kind.value;
      stored.set(v.code ?? "", { title: v.title ?? "", description: v.description ?? "", visible: v.visible ?? true });
    }
  }
  return stored;
}

/** What the cases came to, printed at the end so a run shows it was not vacuous. */
const seen = new Map<string, number>();
const note = (key: string) => seen.set(key, (seen.get(key) ?? 0) + 1);

async function checkCase(c: ImportCase): Promise<void> {
  await s.recordsDb.db.collection("courses").deleteMany({});
  const file = fileOf(c);
  const heard = c.transport.kind === "rpc" ? await viaRpc(c, file, c.transport.chunkSize) : await viaHttp(c, file);
  const what = `${describeCase(c)}: ${heard.status}${heard.message ? ` (${heard.message})` : ""}`;

  // 1. A bad file is the client's problem, never the service's.
  if (c.transport.kind === "rpc") expect(CLIENT_CODES.has(heard.status), what).toBe(true);
  else expect(Number(heard.status), what).toBeLessThan(500);

  const stored = await storedCourses();
  const summary = heard.summary;
  note(`${c.mutations.length === 0 ? "row" : "byte"} cases ending ${heard.status}${summary?.strictAborted ? " (strict, aborted)" : ""}`);
  if (summary && summary.failed > 0) note("cases with rows reported");
  if (stored.size > 0) note("cases with records stored");
  if (summary) {
    // 2. Every row read is imported or reported.
    if (!summary.strictAborted) expect(summary.inserted + summary.updated + summary.unchanged + summary.skipped + summary.failed, `${what}: counts add up to read`).toBe(summary.read);
    const reported = new Set(heard.errorRows.filter((row) => row >= 1 && row <= summary.read));
    expect(reported.size, `${what}: rows reported vs failed`).toBe(summary.failed);
    // 3. The job record says what the client heard.
    const { job } = await s.client.getJob({ jobId: heard.jobId! });
    const c2 = job?.counts;
    expect(
      {
        state: STATES[job?.state ?? 0],
        read: Number(c2?.read),
        inserted: Number(c2?.inserted),
        updated: Number(c2?.updated),
        unchanged: Number(c2?.unchanged),
        skipped: Number(c2?.skipped),
        failed: Number(c2?.failed),
      },
      `${what}: job record`,
    ).toEqual({
      state: summary.state,
      read: summary.read,
      inserted: summary.inserted,
      updated: summary.updated,
      unchanged: summary.unchanged,
      skipped: summary.skipped,
      failed: summary.failed,
    });
    // 4. What is stored is what the summary says.
    expect(stored.size, `${what}: records stored`).toBe(c.dryRun || summary.strictAborted ? 0 : summary.inserted + summary.updated);
  } else {
    expect(stored.size, `${what}: nothing stored without a summary`).toBe(0);
    if (heard.jobId) expect((await s.client.getJob({ jobId: heard.jobId })).job?.state, `${what}: job record`).toBe(JobState.FAILED);
  }

  if (c.mutations.length === 0) {
    // Row cases: exactly the file's valid rows are stored, exactly its invalid rows reported.
    const expected = expectedOutcome(c);
    expect(summary, `${what}: a row case always ends with a summary`).toBeDefined();
    expect(
      [...new Set(heard.errorRows)].sort((a, b) => a - b),
      `${what}: rows reported`,
    ).toEqual([...expected.rejected].sort((a, b) => a - b));
    expect(Object.fromEntries(stored), `${what}: records stored`).toEqual(Object.fromEntries(expected.stored));
  } else if (!file.includes(Buffer.from("\uFFFD"))) {
    // Byte cases: bytes that are not the declared encoding are refused, never replaced.
    const replaced = [...stored.values()].filter((r) => `${r.title}${r.description}`.includes("\uFFFD"));
    expect(replaced, `${what}: stored with U+FFFD that the file did not have`).toEqual([]);
  }
}

describe("the import path under fuzzed files", () => {
  it(
    "never fails with a 5xx, imports or reports every row, records what the client heard, and stores exactly the file's valid rows",
    async () => {
      console.log(`import fuzz: ${RUNS} cases with seed ${SEED} (DX_FUZZ_SEED=${SEED} DX_FUZZ_RUNS=${RUNS} runs them again)`);
      await fc.assert(
        fc.asyncProperty(importCases, async (c) => {
          await checkCase(c);
        }),
        { seed: SEED, numRuns: RUNS },
      );
      console.log(`import fuzz covered: ${[...seen].map(([k, n]) => `${k} ×${n}`).join(", ")}`);
    },
    Math.max(120_000, RUNS * 5_000),
  );
});
