/**
 * What the import page makes of a cancelled upload (web/src/import/cancelled-upload.ts):
 * it asks the service for the job its request started, by the request's own
 * name, and cancels that job when it is still running. The service is stood
 * in for by a client answering ListJobs and CancelJob as the service would;
 * the page in Chromium against the real service is test/web/export-and-jobs.test.ts.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { JobKind, JobSchema, JobState, type CancelJobRequest, type ListJobsRequest } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import type { TransferClient } from "../../web/src/api/transfer-client.js";
import { newRequestId, settleCancelledUpload } from "../../web/src/import/cancelled-upload.js";
import { REQUEST_ID_PATTERN } from "../../services/transfer/jobs/request-id.js";

/** A client whose ListJobs lists `listed` and whose CancelJob answers `cancel` (or throws it), keeping what it was asked. */
function serviceWith(listed: { state: JobState }[], cancel: JobState | Error = JobState.CANCELLED) {
  const asked: { list: Partial<ListJobsRequest>[]; cancel: Partial<CancelJobRequest>[] } = { list: [], cancel: [] };
  const client = {
    listJobs: async (request: Partial<ListJobsRequest>) => {
      asked.list.push(request);
      return { jobs: listed.map((j, i) => create(JobSchema, { id: `job-${i}`, kind: JobKind.IMPORT, state: j.state })) };
    },
    cancelJob: async (request: Partial<CancelJobRequest>) => {
      asked.cancel.push(request);
      if (cancel instanceof Error) throw cancel;
      return { job: create(JobSchema, { id: request.jobId, kind: JobKind.IMPORT, state: cancel }) };
    },
  } as unknown as TransferClient;
  return { client, asked };
}

describe("a cancelled upload", () => {
  it("is named with 128 random bits in hex, a name the service takes, and a new one each time", () => {
    const names = new Set(Array.from({ length: 100 }, () => newRequestId()));
    expect(names.size).toBe(100);
    for (const name of names) {
      expect(name).toMatch(/^[0-9a-f]{32}$/);
      expect(name).toMatch(REQUEST_ID_PATTERN);
    }
  });

  it("started nothing when the service lists no import job by that name, and nothing is cancelled", async () => {
    const { client, asked } = serviceWith([]);
    expect(await settleCancelledUpload(client, "abc")).toEqual({ started: false });
    expect(asked.list).toEqual([{ requestId: "abc", kind: JobKind.IMPORT, pageSize: 1 }]);
    expect(asked.cancel).toEqual([]);
  });

  it("cancels the job it started when that job is still running, and gives the job as the cancel left it", async () => {
    const { client, asked } = serviceWith([{ state: JobState.RUNNING }]);
    const settled = await settleCancelledUpload(client, "abc");
    expect(asked.cancel).toEqual([{ jobId: "job-0" }]);
    expect(settled).toMatchObject({ started: true, job: { id: "job-0", state: JobState.CANCELLED } });
    expect(settled).not.toHaveProperty("cancelError");
  });

  it("leaves a job that had already ended as it is, and gives it", async () => {
    const { client, asked } = serviceWith([{ state: JobState.SUCCEEDED }]);
    expect(await settleCancelledUpload(client, "abc")).toMatchObject({ started: true, job: { id: "job-0", state: JobState.SUCCEEDED } });
    expect(asked.cancel).toEqual([]);
  });

  it("says why a running job it started could not be cancelled, and gives it as it was", async () => {
    const { client } = serviceWith([{ state: JobState.RUNNING }], new ConnectError("permission denied: cancelling jobs needs jobs:cancel", Code.PermissionDenied));
    expect(await settleCancelledUpload(client, "abc")).toMatchObject({
      started: true,
      job: { id: "job-0", state: JobState.RUNNING },
      cancelError: "permission denied: cancelling jobs needs jobs:cancel",
    });
  });

  it("passes on a failure to ask, for the page to say it could not check", async () => {
    const client = { listJobs: async () => Promise.reject(new ConnectError("unavailable", Code.Unavailable)) } as unknown as TransferClient;
    await expect(settleCancelledUpload(client, "abc")).rejects.toThrow(/unavailable/);
  });
});
