/**
 * What the jobs page and the audit page ask the transfer service for
 * (web/src/jobs/jobs-filter.ts, web/src/audit/audit-filter.ts): each control
 * becomes the request field of the same meaning, a range of days runs from the
 * first day's start to the end of the last, and a range that ends before it
 * starts is a problem named by its control, not a request.
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { AuditAction } from "../../gen/dataexchange/audit/v1/audit_pb.js";
import { Entity } from "../../gen/dataexchange/records/v1/records_pb.js";
import { JobKind, JobState } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { auditFilterProblems, auditRequestOf, initialAuditFilter, isAuditFiltered } from "../../web/src/audit/audit-filter.js";
import { initialJobsFilter, isFiltered, jobsFilterProblems, listJobsRequestOf } from "../../web/src/jobs/jobs-filter.js";

const iso = (ts: Parameters<typeof timestampDate>[0] | undefined) => (ts ? timestampDate(ts).toISOString() : undefined);

describe("the jobs page's request", () => {
  it("asks for every job, a page of 50, when nothing is set", () => {
    const request = listJobsRequestOf(initialJobsFilter());
    expect(request).toMatchObject({ kind: JobKind.UNSPECIFIED, entity: Entity.UNSPECIFIED, state: JobState.UNSPECIFIED, subject: "", pageSize: 50, pageToken: "" });
    expect(request.createdFrom).toBeUndefined();
    expect(request.createdTo).toBeUndefined();
    expect(isFiltered(initialJobsFilter())).toBe(false);
  });

  it("carries kind, entity, state, who (trimmed) and the days created, the last day included, and the page token for Load more", () => {
    const filter = { kind: JobKind.IMPORT, entity: Entity.COURSES, state: JobState.FAILED, subject: " exporter ", createdFrom: "2026-11-30", createdTo: "2026-12-01" };
    const request = listJobsRequestOf(filter, "next-page");
    expect(request).toMatchObject({ kind: JobKind.IMPORT, entity: Entity.COURSES, state: JobState.FAILED, subject: "exporter", pageToken: "next-page" });
    expect(iso(request.createdFrom)).toBe("2026-11-30T00:00:00.000Z");
    expect(iso(request.createdTo)).toBe("2026-12-02T00:00:00.000Z");
    expect(isFiltered(filter)).toBe(true);
    expect(isFiltered({ ...initialJobsFilter(), subject: "  " })).toBe(false);
  });

  it("sends an open-ended range with only the end that is set", () => {
    const request = listJobsRequestOf({ ...initialJobsFilter(), createdTo: "2026-12-01" });
    expect(request.createdFrom).toBeUndefined();
    expect(iso(request.createdTo)).toBe("2026-12-02T00:00:00.000Z");
  });

  it("names the end date as the problem when it is before the start, and accepts a one-day range", () => {
    expect(jobsFilterProblems({ ...initialJobsFilter(), createdFrom: "2026-12-02", createdTo: "2026-12-01" })).toEqual({ createdTo: "The end date is before the start date." });
    expect(jobsFilterProblems({ ...initialJobsFilter(), createdFrom: "2026-12-01", createdTo: "2026-12-01" })).toEqual({});
  });
});

describe("the audit page's request", () => {
  it("asks for the whole trail, a page of 50, when nothing is set", () => {
    const request = auditRequestOf(initialAuditFilter());
    expect(request.filter).toMatchObject({ subject: "", action: AuditAction.UNSPECIFIED, entity: "" });
    expect(request.filter?.from).toBeUndefined();
    expect(request.filter?.to).toBeUndefined();
    expect(request).toMatchObject({ pageSize: 50, pageToken: "" });
    expect(isAuditFiltered(initialAuditFilter())).toBe(false);
  });

  it("fills each field of AuditEventFilter from its control, the last day included, with the page token for Load more", () => {
    const form = { subject: " auditor ", action: AuditAction.EXPORT, entity: "users", from: "2026-12-01", to: "2026-12-01" };
    const request = auditRequestOf(form, "token-2");
    expect(request.filter).toMatchObject({ subject: "auditor", action: AuditAction.EXPORT, entity: "users" });
    expect(iso(request.filter?.from)).toBe("2026-12-01T00:00:00.000Z");
    expect(iso(request.filter?.to)).toBe("2026-12-02T00:00:00.000Z");
    expect(request.pageToken).toBe("token-2");
    expect(isAuditFiltered(form)).toBe(true);
  });

  it("names the end date as the problem when it is before the start", () => {
    expect(auditFilterProblems({ ...initialAuditFilter(), from: "2026-12-05", to: "2026-12-01" })).toEqual({ to: "The end date is before the start date." });
    expect(auditFilterProblems({ ...initialAuditFilter(), to: "2026-12-01" })).toEqual({});
  });
});
