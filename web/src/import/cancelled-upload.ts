/**
 * What became of an upload the person cancelled. Aborting the request is
 * not the end of it: the last bytes may have left before the Cancel did,
 * and the service may have started the job while the browser was still
 * showing the bar short of its end (its progress lags the bytes sent). The
 * service starts no job for a client gone before the job started, and
 * cancels one that was starting (import-route.ts); but a 202 already on its
 * way means the job runs. So the page asks by the request's own name (the
 * `X-Request-Id` it sent, which the job keeps): no job, and it can say that
 * nothing was imported; a job still running, and it cancels it, as the
 * person asked; a job that ended, and it says so and links to it.
 */
import { JobKind, JobState, type Job } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import type { TransferClient } from "../api/transfer-client.js";
import { messageOf } from "../ui/errors.js";

/** No job started; or the job the upload started, as it is now, and why it could not be cancelled if it could not. */
export type CancelledUpload = { started: false } | { started: true; job: Job; cancelError?: string };

/**
 * A name for one upload: 128 random bits in hex. Not `crypto.randomUUID()`,
 * which browsers offer only on HTTPS or localhost; the UI may be served over
 * plain HTTP inside a network.
 */
export function newRequestId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Finds the job the upload named `requestId` started, if any, and cancels it while it runs. */
export async function settleCancelledUpload(client: TransferClient, requestId: string): Promise<CancelledUpload> {
  const { jobs } = await client.listJobs({ requestId, kind: JobKind.IMPORT, pageSize: 1 });
  const job = jobs[0];
  if (!job) return { started: false };
  if (job.state !== JobState.RUNNING) return { started: true, job };
  try {
    const { job: cancelled } = await client.cancelJob({ jobId: job.id });
    return { started: true, job: cancelled ?? job };
  } catch (e) {
    return { started: true, job, cancelError: messageOf(e) };
  }
}
