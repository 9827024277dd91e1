/**
 * Job history: the jobs the person may see (their own, or everyone's for
 * admins and auditors), newest first, filtered by kind, entity, state, who
 * ran them (for those who see everyone's) and the days they were created,
 * read page by page; with state, counts, duration and checksum, the failed
 * rows of an import that rejected some, and each job's detail view.
 */
import { useCallback, useMemo, useState } from "react";
import { Entity } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { JobKind, JobState, type Job } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { useApp } from "../app-context.js";
import { ENTITIES } from "../export/export-form.js";
import { NotAllowed } from "../ui/not-allowed.js";
import { useDebounced } from "../ui/use-debounced.js";
import { PagedListing } from "../ui/paged-listing.js";
import { usePagedList, type Page } from "../ui/use-paged-list.js";
import { FailedRowsButton, hasFailedRows } from "./failed-rows-button.js";
import { countsText, durationText, entityText, KIND_TEXT, STATE_TEXT, timeText } from "./job-text.js";
import { initialJobsFilter, isFiltered, jobsFilterProblems, listJobsRequestOf, type JobsFilter } from "./jobs-filter.js";
import { StateBadge } from "./state-badge.js";
import { DateRangeInputs } from "../ui/date-range-inputs.js";

const STATES = [JobState.RUNNING, JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED];
/** Typing in the "Who" box asks once the typing pauses. */
const FILTER_DELAY_MS = 300;

export function JobsPage() {
  const { capabilities } = useApp();
  if (capabilities.jobs === "none") return <NotAllowed title="Jobs" action="Seeing jobs" roles={["exporter", "importer", "auditor", "admin"]} />;
  return <JobHistory />;
}

function JobHistory() {
  const { client, capabilities } = useApp();
  const everyone = capabilities.jobs === "all";
  const [filter, setFilter] = useState<JobsFilter>(initialJobsFilter);
  const update = (patch: Partial<JobsFilter>) => setFilter((f) => ({ ...f, ...patch }));
  const problems = jobsFilterProblems(filter);
  const askedKey = JSON.stringify(useDebounced(filter, FILTER_DELAY_MS));
  const asked = useMemo(() => JSON.parse(askedKey) as JobsFilter, [askedKey]);
  const fetchPage = useCallback(
    async (pageToken: string): Promise<Page<Job>> => {
      const page = await client.listJobs(listJobsRequestOf(asked, pageToken));
      return { items: page.jobs, nextPageToken: page.nextPageToken };
    },
    [client, asked],
  );
  const list = usePagedList(fetchPage, Object.keys(jobsFilterProblems(asked)).length === 0);

  return (
    <section className="jobs-page">
      <div className="title-row">
        <h1>Jobs</h1>
        <span className="muted">{everyone ? "everyone's jobs" : "your jobs"}</span>
        <button type="button" className="secondary" onClick={list.reload}>
          Refresh
        </button>
      </div>
      <form className="row filters-row" aria-label="Job filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Kind
          <select name="kind" value={filter.kind} onChange={(e) => update({ kind: Number(e.currentTarget.value) })}>
            <option value={JobKind.UNSPECIFIED}>any</option>
            <option value={JobKind.EXPORT}>export</option>
            <option value={JobKind.IMPORT}>import</option>
            <option value={JobKind.REVERT}>revert</option>
          </select>
        </label>
        <label>
          Entity
          <select name="entity" value={filter.entity} onChange={(e) => update({ entity: Number(e.currentTarget.value) as Entity })}>
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
          <select name="state" value={filter.state} onChange={(e) => update({ state: Number(e.currentTarget.value) })}>
            <option value={JobState.UNSPECIFIED}>any</option>
            {STATES.map((state) => (
              <option key={state} value={state}>
                {STATE_TEXT[state]}
              </option>
            ))}
          </select>
        </label>
        {everyone && (
          <label>
            Who
            <input name="subject" value={filter.subject} placeholder="anyone" autoComplete="off" onChange={(e) => update({ subject: e.currentTarget.value })} />
          </label>
        )}
        <DateRangeInputs
          from={filter.createdFrom}
          to={filter.createdTo}
          problem={problems.createdTo}
          names={["createdFrom", "createdTo"]}
          labels={["Created from", "Created to"]}
          problemId="jobs-created-to-problem"
          onChange={({ from, to }) => update({ createdFrom: from, createdTo: to })}
        />
      </form>
      <PagedListing list={list} loadingText="Loading jobs…" emptyText={isFiltered(asked) ? "No job matches these filters." : "No jobs yet. Exports and imports appear here."}>
        {(jobs) => <JobsTable jobs={jobs} />}
      </PagedListing>
    </section>
  );
}

function JobsTable({ jobs }: { jobs: readonly Job[] }) {
  return (
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
            <th scope="col">Checksum</th>
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
                {/* The first 12 hex digits tell files apart at a glance; the whole SHA-256 is the tooltip and in the detail. */}
                {job.sha256 ? <code title={`SHA-256 ${job.sha256}`}>{job.sha256.slice(0, 12)}…</code> : <span className="muted">—</span>}
              </td>
              <td>
                <a href={`#/jobs/${job.id}`}>Details</a>
                {hasFailedRows(job) && (
                  <>
                    {" "}
                    <FailedRowsButton jobId={job.id} label="Failed rows" />
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
