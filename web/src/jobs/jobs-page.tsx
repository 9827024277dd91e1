/**
 * Job history: the jobs the person may see (their own, or everyone's for
 * admins and auditors), newest first, filtered by kind, entity and state,
 * with state, counts and duration; each opens its detail view.
 */
import { useCallback, useEffect, useState } from "react";
import { Entity } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { JobKind, JobState, type Job } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { ENTITIES } from "../export/export-form.js";
import { useApp } from "../app-context.js";
import { missingRoleReason } from "../auth/capabilities.js";
import { messageOf } from "../ui/errors.js";
import { countsText, durationText, entityText, KIND_TEXT, STATE_TEXT, timeText } from "./job-text.js";
import { StateBadge } from "./state-badge.js";

const PAGE_SIZE = 50;
const STATES = [JobState.RUNNING, JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED];

interface JobFilter {
  kind: JobKind;
  entity: Entity;
  state: JobState;
}

export function JobsPage() {
  const { client, capabilities } = useApp();
  const [jobs, setJobs] = useState<Job[]>();
  const [next, setNext] = useState("");
  const [error, setError] = useState<string>();
  const [filter, setFilter] = useState<JobFilter>({ kind: JobKind.UNSPECIFIED, entity: Entity.UNSPECIFIED, state: JobState.UNSPECIFIED });

  const load = useCallback(
    async (pageToken = "") => {
      setError(undefined);
      try {
        const page = await client.listJobs({ ...filter, pageSize: PAGE_SIZE, pageToken });
        setJobs((before) => (pageToken ? [...(before ?? []), ...page.jobs] : page.jobs));
        setNext(page.nextPageToken);
      } catch (e) {
        setError(messageOf(e));
      }
    },
    [client, filter],
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
      <div className="row filters-row">
        <label>
          Kind
          <select name="kind" value={filter.kind} onChange={(e) => setFilter({ ...filter, kind: Number(e.currentTarget.value) })}>
            <option value={JobKind.UNSPECIFIED}>any</option>
            <option value={JobKind.EXPORT}>export</option>
            <option value={JobKind.IMPORT}>import</option>
            <option value={JobKind.REVERT}>revert</option>
          </select>
        </label>
        <label>
          Entity
          <select name="entity" value={filter.entity} onChange={(e) => setFilter({ ...filter, entity: Number(e.currentTarget.value) })}>
            <option value={Entity.UNSPECIFIED}>any</option>
            {ENTITIES.map((e) => (
              <option key={e.entity} value={e.entity}>
                {e.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          State
          <select name="state" value={filter.state} onChange={(e) => setFilter({ ...filter, state: Number(e.currentTarget.value) })}>
            <option value={JobState.UNSPECIFIED}>any</option>
            {STATES.map((state) => (
              <option key={state} value={state}>
                {STATE_TEXT[state]}
              </option>
            ))}
          </select>
        </label>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {jobs === undefined ? (
        <p className="muted">Loading jobs…</p>
      ) : jobs.length === 0 ? (
        <p className="muted">{filter.kind || filter.entity || filter.state ? "No job matches these filters." : "No jobs yet. Exports and imports appear here."}</p>
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
