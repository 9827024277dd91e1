/**
 * A job as WatchJob streams it: the job when the watch starts, its counts as
 * they reach the job store, its row errors as they are found, and the job as
 * it ended (then the stream ends). A job that already ended comes as it is.
 * The watch stops when the view goes away.
 */
import { useEffect, useState } from "react";
import type { Job } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import type { TransferClient } from "../api/transfer-client.js";
import { isAbort, messageOf } from "../ui/errors.js";

/** Row errors kept for display, as the job record keeps its first 100. */
const SHOWN_ERRORS = 100;

export interface WatchedJob {
  job?: Job;
  /** True while the stream is open on a running job. */
  live: boolean;
  error?: string;
}

export function useWatchedJob(client: TransferClient, id: string): WatchedJob {
  const [state, setState] = useState<WatchedJob>({ live: false });
  useEffect(() => {
    const abort = new AbortController();
    setState({ live: false });
    void (async () => {
      try {
        for await (const message of client.watchJob({ jobId: id }, { signal: abort.signal })) {
          const event = message.event;
          if (event.case === "job") setState({ job: event.value, live: true });
          else if (event.case === "ended") setState({ job: event.value, live: false });
          else if (event.case === "progress") {
            const { counts, bytes, errorCount } = event.value;
            setState((s) => (s.job ? { ...s, job: { ...s.job, counts, bytes, errorCount } } : s));
          } else if (event.case === "rowError") {
            const rowError = event.value;
            setState((s) => (s.job && s.job.errors.length < SHOWN_ERRORS ? { ...s, job: { ...s.job, errors: [...s.job.errors, rowError] } } : s));
          }
        }
        setState((s) => ({ ...s, live: false }));
      } catch (error) {
        if (!isAbort(error, abort.signal)) setState((s) => ({ ...s, live: false, error: messageOf(error) }));
      }
    })();
    return () => abort.abort();
  }, [client, id]);
  return state;
}
