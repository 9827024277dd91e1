/**
 * "Download failed rows" for a finished import (or revert) with rejected
 * rows: the rows to fix and upload again, from GET /jobs/{id}/failed-rows
 * (with the bearer token, which a plain link cannot carry). What happened is
 * said beside the button: the file's name, or why it failed.
 */
import { useState } from "react";
import { JobKind, JobState, type Job } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { useApp } from "../app-context.js";
import { messageOf } from "../ui/errors.js";
import { downloadFromRoute } from "../ui/http-download.js";

/** Whether the job has a failed-rows file: an import or revert that has ended with row errors. */
export function hasFailedRows(job: Job): boolean {
  return job.errorCount > 0n && (job.kind === JobKind.IMPORT || job.kind === JobKind.REVERT) && job.state !== JobState.RUNNING;
}

export function FailedRowsButton({ jobId, label = "Download failed rows" }: { jobId: string; label?: string }) {
  const { accessToken } = useApp();
  const [state, setState] = useState<{ busy: boolean; message?: string; error?: string }>({ busy: false });
  const download = async () => {
    setState({ busy: true });
    try {
      const name = await downloadFromRoute(`/jobs/${encodeURIComponent(jobId)}/failed-rows`, await accessToken(), `${jobId}-failed-rows`);
      setState({ busy: false, message: `Downloaded ${name}` });
    } catch (e) {
      setState({ busy: false, error: messageOf(e) });
    }
  };
  return (
    <>
      <button type="button" className="secondary" disabled={state.busy} onClick={() => void download()}>
        {label}
      </button>
      {state.message && <span className="status ok"> {state.message}</span>}
      {state.error && (
        <span className="error" role="alert">
          {" "}
          {state.error}
        </span>
      )}
    </>
  );
}
