/**
 * The jobs page's filter as plain data, and the ListJobsRequest it makes:
 * kind, entity, state, who ran it (for those who see everyone's jobs) and a
 * range of creation days.
 */
import { create } from "@bufbuild/protobuf";
import { Entity } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { JobKind, JobState, ListJobsRequestSchema, type ListJobsRequest } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { dateRangeProblem, endOfDay, startOfDay } from "../ui/date-range.js";

export const JOBS_PAGE_SIZE = 50;

export interface JobsFilter {
  kind: JobKind;
  entity: Entity;
  state: JobState;
  /** Who ran the jobs (the token's subject); empty for anyone. */
  subject: string;
  /** Created on or after this day (yyyy-mm-dd), and on or before `createdTo`; either may be empty. */
  createdFrom: string;
  createdTo: string;
}

export function initialJobsFilter(): JobsFilter {
  return { kind: JobKind.UNSPECIFIED, entity: Entity.UNSPECIFIED, state: JobState.UNSPECIFIED, subject: "", createdFrom: "", createdTo: "" };
}

/** True when any condition is set (the empty list then says "no job matches" rather than "no jobs yet"). */
export function isFiltered(filter: JobsFilter): boolean {
  return Boolean(filter.kind || filter.entity || filter.state || filter.subject.trim() || filter.createdFrom || filter.createdTo);
}

/** Problems by control name; empty when the filter can be sent. */
export function jobsFilterProblems(filter: JobsFilter): Record<string, string> {
  const to = dateRangeProblem(filter.createdFrom, filter.createdTo);
  return to ? { createdTo: to } : {};
}

export function listJobsRequestOf(filter: JobsFilter, pageToken = ""): ListJobsRequest {
  return create(ListJobsRequestSchema, {
    kind: filter.kind,
    entity: filter.entity,
    state: filter.state,
    subject: filter.subject.trim(),
    createdFrom: startOfDay(filter.createdFrom),
    createdTo: endOfDay(filter.createdTo),
    pageSize: JOBS_PAGE_SIZE,
    pageToken,
  });
}
