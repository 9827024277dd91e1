/**
 * Job records under load: many small imports at once — clean, with rejected
 * rows, strict ones that abort, dry runs, files that stop half-way — each
 * pausing mid-upload (so the job records its progress while others finish),
 * then every job record is compared with what its client was told. A job's
 * record must say what its client heard, the moment the client heard it, and
 * still say so later (no late write may undo the end).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { ImportHeaderSchema, JobState, type ImportSummary, type Job } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { Entity, startServices, WriteMode, type Services } from "../rpc/harness.js";

let s: Services;

beforeAll(async () => {
  // Progress is recorded every 50 ms, so nearly every job records progress right before it ends.
  s = await startServices({ config: { importMaxFileMb: 0.01, jobs: { progressSaveMs: 50 } } });
});
afterAll(async () => s?.close());

interface Told {
  name: string;
  jobId: string;
  summary?: ImportSummary;
  errorCode?: string;
}

type Kind = "clean" | "some-bad" | "strict-bad" | "dry-run" | "unknown-column" | "too-big";
const KINDS: Kind[] = ["clean", "some-bad", "strict-bad", "dry-run", "unknown-column", "too-big"];

function fileOf(kind: Kind, prefix: string): string {
  const rows = kind === "too-big" ? 400 : 17;
  const header = kind === "unknown-column" ? "email,username,shoe_size" : "email,username,role";
  const lines = [header];
  for (let i = 0; i < rows; i++) {
    const bad = (kind === "some-bad" && i % 6 === 1) || (kind === "strict-bad" && i === 9);
    lines.push(`${prefix}-${i}@example.org,${prefix}-${i},${bad ? "nobody" : "student"}`);
  }
  return `${lines.join("\n")}\n`;
}

/** One import over the bidi RPC whose upload stops for `pauseMs` half-way. */
async function pausedImport(kind: Kind, prefix: string, pauseMs: number): Promise<Told> {
  const bytes = Buffer.from(fileOf(kind, prefix));
  const half = Math.floor(bytes.length / 2);
  const requests = (async function* () {
    yield {
      message: {
        case: "header" as const,
        value: create(ImportHeaderSchema, { entity: Entity.USERS, format: "csv", mode: WriteMode.UPSERT, strict: kind === "strict-bad", dryRun: kind === "dry-run" }),
      },
    };
    yield { message: { case: "chunk" as const, value: bytes.subarray(0, half) } };
    await new Promise((r) => setTimeout(r, pauseMs));
    yield { message: { case: "chunk" as const, value: bytes.subarray(half) } };
  })();
  const told: Told = { name: `${kind} ${prefix}`, jobId: "" };
  try {
    for await (const response of s.client.import(requests)) {
      if (response.event.case === "started") told.jobId = response.event.value.jobId;
      if (response.event.case === "summary") told.summary = response.event.value;
    }
  } catch (error) {
    told.errorCode = ConnectError.from(error).code.toString();
  }
  return told;
}

/** What the record says, in the terms the client was told. */
function recordView(job: Job | undefined) {
  const c = job?.counts;
  return { state: job?.state, read: c?.read, inserted: c?.inserted, updated: c?.updated, unchanged: c?.unchanged, skipped: c?.skipped, failed: c?.failed };
}

function toldView(told: Told) {
  const m = told.summary;
  if (!m) return { state: JobState.FAILED };
  return { state: m.state, read: m.read, inserted: m.inserted, updated: m.updated, unchanged: m.unchanged, skipped: m.skipped, failed: m.failed };
}

async function mismatches(results: Told[]): Promise<string[]> {
  const out: string[] = [];
  for (const told of results) {
    const { job } = await s.client.getJob({ jobId: told.jobId });
    const stored = recordView(job);
    const expected = toldView(told);
    const same = Object.entries(expected).every(([k, v]) => stored[k as keyof typeof stored] === v);
    if (!same) out.push(`${told.name} (job ${told.jobId}): client was told ${fmt(expected)}, the record says ${fmt(stored)}`);
  }
  return out;
}

function fmt(view: Record<string, unknown>): string {
  return Object.entries(view)
    .map(([k, v]) => `${k}=${k === "state" ? JobState[v as JobState] : String(v)}`)
    .join(" ");
}

describe("job records under many concurrent small imports", () => {
  it("each say exactly what their client was told, as soon as it was told and afterwards", async () => {
    const results: Told[] = [];
    const waves = 5;
    const perWave = 12;
    for (let wave = 0; wave < waves; wave++) {
      const batch = Array.from({ length: perWave }, (_, i) => {
        const kind = KINDS[(wave * perWave + i) % KINDS.length]!;
        // Pauses straddle the progress interval, so progress writes land around other jobs' ends.
        return pausedImport(kind, `load${wave}x${i}`, 40 + ((i * 37) % 90));
      });
      results.push(...(await Promise.all(batch)));
    }
    expect(results.every((r) => r.jobId !== "")).toBe(true);
    // Every kind ended the way it should have, so the comparison covers failures too.
    expect(results.filter((r) => r.summary?.state === JobState.FAILED).length).toBeGreaterThan(0);
    expect(results.filter((r) => r.summary?.state === JobState.SUCCEEDED && r.summary.inserted > 0n).length).toBeGreaterThan(0);
    expect(results.filter((r) => r.errorCode !== undefined).length).toBeGreaterThan(0);

    expect(await mismatches(results)).toEqual([]);
    // A late write (progress, a lease renewal) must not undo an end afterwards either.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await mismatches(results)).toEqual([]);
    expect(s.transfer.context.registry.size).toBe(0);
  });
});
