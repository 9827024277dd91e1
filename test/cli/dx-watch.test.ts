/**
 * `dx watch <id>` against the real services: it follows a job another client
 * started (a browser-style async upload) to its end, prints each row error and
 * the outcome, and exits as if it had run the job.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServices, type Services } from "../transfer/rpc/harness.js";
import { bundleDx, dx, type DxBundle } from "./dx-harness.js";

let s: Services;
let bundle: DxBundle;

beforeAll(async () => {
  [s, bundle] = await Promise.all([startServices({ config: { jobs: { progressSaveMs: 20, watchPollMs: 25 } } }), bundleDx()]);
});
afterAll(async () => {
  await s?.close();
  bundle?.remove();
});

/** Starts an import the way a browser does (POST /import?async=true) and gives its job id. */
async function startUpload(csv: string, fields: Record<string, string> = {}): Promise<string> {
  const form = new FormData();
  for (const [k, v] of Object.entries({ entity: "courses", format: "csv", mode: "upsert", ...fields })) form.append(k, v);
  form.append("file", new Blob([csv]), "courses.csv");
  const res = await fetch(`${s.transfer.url}/import?async=true`, { method: "POST", body: form });
  expect(res.status).toBe(202);
  return ((await res.json()) as { jobId: string }).jobId;
}

const courses = (n: number, bad: (i: number) => boolean) => `code,title\n${Array.from({ length: n }, (_, i) => `DW${i},${bad(i) ? "" : `Watched ${i}`}`).join("\n")}\n`;

describe("dx watch", () => {
  it("follows an upload to its end, printing its row errors, and exits 1 when rows were rejected", async () => {
    const jobId = await startUpload(courses(3000, (i) => i % 1000 === 7));
    const r = await dx(bundle, ["watch", jobId, "--server", s.transfer.url]);
    expect(r.stdout).toContain(`job ${jobId} succeeded: 3000 read, 2997 inserted, 0 updated, 0 unchanged, 0 skipped, 3 rejected`);
    expect(r.stderr.match(/^row \d+, line \d+, column title: /gm)).toHaveLength(3);
    expect(r.code).toBe(1);
  });

  it("exits 0 for a job that wrote everything, and 2 for one that wrote nothing", async () => {
    const clean = await startUpload(courses(10, () => false));
    expect((await dx(bundle, ["watch", clean, "--server", s.transfer.url])).code).toBe(0);
    const aborted = await startUpload(
      courses(10, (i) => i === 4),
      { strict: "true" },
    );
    const r = await dx(bundle, ["watch", aborted, "--server", s.transfer.url]);
    expect(r.stdout).toContain(`job ${aborted} failed`);
    expect(r.code).toBe(2);
  });

  it("gives NDJSON events with --json: the job, then its end last", async () => {
    const jobId = await startUpload(courses(5, () => false));
    const r = await dx(bundle, ["watch", jobId, "--json", "--server", s.transfer.url]);
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(Object.keys(events[0]!)).toEqual(["job"]);
    expect(events.at(-1)).toMatchObject({ ended: { id: jobId, state: "JOB_STATE_SUCCEEDED" } });
  });

  it("says in one line that a job does not exist, without a stack trace", async () => {
    const r = await dx(bundle, ["watch", "no-such-job", "--server", s.transfer.url]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
