/**
 * Job history: the jobs the person may see (their own, or everyone's for
 * admins and auditors), newest first, with state, counts and duration; each
 * opens its detail view.
 */
import { useCallback, useEffect, useState } from "react";
import type { Job } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { useApp } from "../app-context.js";
import { missingRoleReason } from "../auth/capabilities.js";
import { messageOf } from "../ui/errors.js";
import { countsText, durationText, entityText, KIND_TEXT, timeText } from "./job-text.js";
import { StateBadge } from "./state-badge.js";

const PAGE_SIZE = 50;

export function JobsPage() {
  const { client, capabilities } = useApp();
  const [jobs, setJobs] = useState<Job[]>();
  const [next, setNext] = useState("");
  const [error, setError] = useState<string>();

  const load = useCallback(
    async (pageToken = "") => {
      setError(undefined);
      try {
        const page = await client.listJobs({ pageSize: PAGE_SIZE, pageToken });
        setJobs((before) => (pageToken ? [...(before ?? []), ...page.jobs] : page.jobs));
        setNext(page.nextPageToken);
      } catch (e) {
        setError(messageOf(e));
      }
    },
    [client],
  );

  useEffect(() => {
    if (capabilities.jobs !== "none") void load();
  }, [load, capabilities.jobs]);

  if (capabilities.jobs === "none") {
    return (
      <section>
        <h1>Jobs</h1>
        <p className="note" role="note">
          {missingRoleReason("Seeing jobs", ["exporter", "importer", "auditor", "admin"])}.
        </p>
      </section>
    );
  }
  return (
    <section className="jobs-page">
      <div className="title-row">
        <h1>Jobs</h1>
        <span className="muted">{capabilities.jobs === "all" ? "everyone's jobs" : "your jobs"}</span>
        <button type="button" className="secondary" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {jobs === undefined ? (
        <p className="muted">Loading jobs…</p>
      ) : jobs.length === 0 ? (
        <p className="muted">No jobs yet. Exports and imports appear here.</p>
      ) : (
        <div className="table-scroll">
          <table className="jobs">
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Kind</th>
                <th scope="col">Entity</th>
                <th scope="col">Format</th>
                <th scope="col">State</th>
                <th scope="col">Counts</th>
                <th scope="col">Duration</th>
                <th scope="col">Who</th>
                <th scope="col">Job</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((job) => (
                <tr key={job.id} data-job-id={job.id}>
                  <td>{timeText(job.createdAt)}</td>
                  <td>{KIND_TEXT[job.kind]}</td>
                  <td>{entityText(job.entity)}</td>
                  <td>{job.format}</td>
                  <td>
                    <StateBadge state={job.state} />
                  </td>
                  <td>{countsText(job)}</td>
                  <td>{durationText(job.duration)}</td>
                  <td>{job.subject}</td>
                  <td>
                    <a href={`#/jobs/${job.id}`}>Details</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {next && (
        <button type="button" className="secondary" onClick={() => void load(next)}>
          More
        </button>
      )}
    </section>
  );
}
