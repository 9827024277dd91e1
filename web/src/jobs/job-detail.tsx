/**
 * One job: what was asked, by whom, how it went (counts, checksum, first row
 * errors), kept up to date while it runs (WatchJob), with Cancel for a
 * running job and Undo for a finished import (RevertImport, until its
 * `revertibleUntil`) when the person's roles allow it. The service decides:
 * an importer's button for someone else's import is refused with its reason,
 * shown beside it.
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useState } from "react";
import { JobKind, JobState, type Job } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { useApp } from "../app-context.js";
import { bytesText } from "../ui/bytes-text.js";
import { messageOf } from "../ui/errors.js";
import { FailedRowsButton, hasFailedRows } from "./failed-rows-button.js";
import { countsText, durationText, entityText, KIND_TEXT, timeText } from "./job-text.js";
import { StateBadge } from "./state-badge.js";
import { useWatchedJob } from "./use-watched-job.js";

export function JobDetail({ id }: { id: string }) {
  const { client, capabilities } = useApp();
  const { job, live, error } = useWatchedJob(client, id);
  // Undo asks once more, in the page (a second button), before anything is sent.
  const [revert, setRevert] = useState<{ asking: boolean; busy: boolean; error?: string }>({ asking: false, busy: false });
  const undoImport = async () => {
    setRevert({ asking: false, busy: true });
    try {
      const { job: revertJob } = await client.revertImport({ jobId: id });
      window.location.hash = `#/jobs/${encodeURIComponent(revertJob?.id ?? "")}`;
    } catch (e) {
      setRevert({ asking: false, busy: false, error: messageOf(e) });
    }
  };
  const revertible =
    job?.kind === JobKind.IMPORT && job.state !== JobState.RUNNING && !job.revertedBy && job.revertibleUntil !== undefined && timestampDate(job.revertibleUntil).getTime() > Date.now();
  const [cancelError, setCancelError] = useState<string>();
  const [cancelling, setCancelling] = useState(false);
  const cancel = async () => {
    setCancelling(true);
    setCancelError(undefined);
    try {
      // The watch brings the job's end; nothing else to update here.
      await client.cancelJob({ jobId: id });
    } catch (e) {
      setCancelError(messageOf(e));
      setCancelling(false);
    }
  };

  return (
    <section className="job-detail">
      <p>
        <a href="#/jobs">← All jobs</a>
      </p>
      <div className="title-row">
        <h1>
          Job <code>{id}</code>
        </h1>
        {live && <span className="muted">updating live</span>}
        {job?.state === JobState.RUNNING && capabilities.cancelJobs && (
          <button type="button" className="secondary" disabled={cancelling} onClick={() => void cancel()}>
            Cancel job
          </button>
        )}
        {revertible && capabilities.revertImports && !revert.asking && (
          <button type="button" className="secondary" disabled={revert.busy} onClick={() => setRevert({ asking: true, busy: false })}>
            Undo import
          </button>
        )}
      </div>
      {revert.asking && (
        <fieldset className="confirm">
          <legend>Undo this import?</legend>
          Records this import inserted are deleted and records it changed are put back, unless changed since.{" "}
          <button type="button" onClick={() => void undoImport()}>
            Undo it
          </button>{" "}
          <button type="button" className="secondary" onClick={() => setRevert({ asking: false, busy: false })}>
            Keep it
          </button>
        </fieldset>
      )}
      {revert.error && (
        <p className="error" role="alert">
          {revert.error}
        </p>
      )}
      {cancelError && (
        <p className="error" role="alert">
          {cancelError}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {!job && !error && <p className="muted">Loading…</p>}
      {job && (
        <dl className="facts">
          <dt>State</dt>
          <dd>
            <StateBadge state={job.state} />
            {job.error && <span className="error"> {job.error}</span>}
          </dd>
          <dt>Kind</dt>
          <dd>
            {KIND_TEXT[job.kind]} of {entityText(job.entity)}
            {job.format && ` as ${job.format}`}
          </dd>
          {job.revertOf && (
            <>
              <dt>Undoes</dt>
              <dd>
                <a href={`#/jobs/${encodeURIComponent(job.revertOf)}`}>import {job.revertOf}</a>
              </dd>
            </>
          )}
          {job.revertedBy && (
            <>
              <dt>Undone by</dt>
              <dd>
                <a href={`#/jobs/${encodeURIComponent(job.revertedBy)}`}>revert {job.revertedBy}</a>
              </dd>
            </>
          )}
          {job.kind === JobKind.IMPORT && job.revertibleUntil && !job.revertedBy && (
            <>
              <dt>Can be undone until</dt>
              <dd>{timeText(job.revertibleUntil)}</dd>
            </>
          )}
          <dt>Who</dt>
          <dd>{job.subject}</dd>
          {job.fileName && (
            <>
              <dt>File</dt>
              <dd>{job.fileName}</dd>
            </>
          )}
          {job.fields.length > 0 && (
            <>
              <dt>Fields</dt>
              <dd>{job.fields.join(", ")}</dd>
            </>
          )}
          {job.limit > 0n && (
            <>
              <dt>Limit</dt>
              <dd>{String(job.limit)}</dd>
            </>
          )}
          {job.kind === JobKind.IMPORT && job.fileSize !== undefined && job.fileSize > 0n && (
            <>
              <dt>Read</dt>
              <dd>
                <ReadProgress job={job} />
              </dd>
            </>
          )}
          <dt>Counts</dt>
          <dd>{countsText(job)}</dd>
          <dt>Created</dt>
          <dd>{timeText(job.createdAt)}</dd>
          <dt>Finished</dt>
          <dd>{timeText(job.finishedAt) || "—"}</dd>
          <dt>Duration</dt>
          <dd>{durationText(job.duration) || "—"}</dd>
          {job.kind !== JobKind.REVERT && (
            <>
              <dt>Bytes</dt>
              <dd>{String(job.bytes)}</dd>
              <dt>SHA-256</dt>
              <dd>
                <code className="wrap">{job.sha256 || "—"}</code>
              </dd>
            </>
          )}
          {job.errorCount > 0n && (
            <>
              <dt>Row errors</dt>
              <dd>
                {String(job.errorCount)}
                {hasFailedRows(job) && (
                  <>
                    {" "}
                    <FailedRowsButton jobId={id} />
                  </>
                )}
                <ul>
                  {job.errors.slice(0, 20).map((e) => (
                    <li key={`${e.row}-${e.column}-${e.code}`}>
                      row {String(e.row)}
                      {e.column && ` (${e.column})`}: {e.reason}
                    </li>
                  ))}
                </ul>
              </dd>
            </>
          )}
        </dl>
      )}
    </section>
  );
}

/**
 * How far an import has read its file: bytes read of the file's size (known
 * for an upload, which the service spools before the job starts), and the
 * rows so far. The upload's own bar (bytes sent) hands over to this one.
 */
function ReadProgress({ job }: { job: Job }) {
  const size = job.fileSize ?? 0n;
  const read = job.bytes > size ? size : job.bytes;
  const percent = size > 0n ? Number((read * 100n) / size) : 0;
  return (
    <span className="status">
      <progress aria-label="Import progress" max={Number(size)} value={Number(read)} />
      {percent}% of {bytesText(Number(size))}, {String(job.counts?.read ?? 0n)} rows read
    </span>
  );
}
