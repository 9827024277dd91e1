// @vitest-environment happy-dom
/**
 * The jobs page's wiring: the "Who" filter only for those who see everyone's
 * jobs (the service lists only one's own for the others), what it and the
 * creation days ask ListJobs for, the checksum and the failed-rows button in
 * the list, and the roles that see no jobs told which would, in the same words
 * as every page they may not use. The transfer client answers from a list of
 * pages; the page against the real service is in test/web/export-and-jobs.test.ts.
 */
import { create } from "@bufbuild/protobuf";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Entity } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { JobCountsSchema, JobKind, JobSchema, JobState, type ListJobsRequest } from "../../../gen/dataexchange/transfer/v1/transfer_pb.js";
import type { TransferClient } from "../../../web/src/api/transfer-client.js";
import { AppContext } from "../../../web/src/app-context.js";
import { capabilitiesOf } from "../../../web/src/auth/capabilities.js";
import { JobsPage } from "../../../web/src/jobs/jobs-page.js";

afterEach(cleanup);

const SHA = "ab".repeat(32);
const JOBS = [
  create(JobSchema, {
    id: "imp-1",
    kind: JobKind.IMPORT,
    entity: Entity.USERS,
    format: "csv",
    state: JobState.SUCCEEDED,
    subject: "admin",
    errorCount: 1n,
    counts: create(JobCountsSchema, { read: 3n, inserted: 2n, failed: 1n }),
    sha256: SHA,
  }),
  create(JobSchema, { id: "exp-1", kind: JobKind.EXPORT, entity: Entity.USERS, format: "csv", state: JobState.SUCCEEDED, subject: "exporter", counts: create(JobCountsSchema, { exported: 4n }) }),
];

function renderPage(roles: string[]) {
  const listJobs = vi.fn(async (_request: ListJobsRequest) => ({ jobs: JOBS, nextPageToken: "" }));
  const client = { listJobs } as unknown as TransferClient;
  render(
    <AppContext.Provider value={{ session: { name: "Someone", roles } as never, capabilities: capabilitiesOf(roles), client, accessToken: async () => undefined }}>
      <JobsPage />
    </AppContext.Provider>,
  );
  return listJobs;
}

describe("the jobs page", () => {
  it("lets an auditor filter by who ran the jobs and by creation days, and asks ListJobs for exactly that", async () => {
    const calls = renderPage(["auditor"]);
    await screen.findByText("everyone's jobs");
    fireEvent.change(screen.getByLabelText("Who"), { target: { value: " exporter " } });
    fireEvent.change(screen.getByLabelText("Created from"), { target: { value: "2026-12-01" } });
    await waitFor(() => expect(calls.mock.lastCall![0]).toMatchObject({ subject: "exporter", createdFrom: { seconds: BigInt(Date.parse("2026-12-01T00:00:00Z") / 1000) } }));
    expect(calls.mock.lastCall![0].createdTo).toBeUndefined();
  });

  it("offers an exporter no Who filter: the service lists only their own jobs", async () => {
    renderPage(["exporter"]);
    await screen.findByText("your jobs");
    expect(screen.queryByLabelText("Who")).toBeNull();
    expect(screen.getByLabelText("Created from")).toBeTruthy();
  });

  it("shows each job's checksum, and a Failed rows button only on a finished import with rejected rows", async () => {
    renderPage(["admin"]);
    const importRow = (await screen.findAllByRole("row")).find((r) => r.getAttribute("data-job-id") === "imp-1")!;
    const exportRow = screen.getAllByRole("row").find((r) => r.getAttribute("data-job-id") === "exp-1")!;
    expect(within(importRow).getByTitle(`SHA-256 ${SHA}`).textContent).toBe(`${SHA.slice(0, 12)}…`);
    expect(within(importRow).getByRole("button", { name: "Failed rows" })).toBeTruthy();
    expect(within(exportRow).queryByRole("button", { name: "Failed rows" })).toBeNull();
    expect(exportRow.textContent).toContain("—");
  });

  it("tells someone whose roles see no jobs which roles would, as every page they may not use does", () => {
    const calls = renderPage(["pii"]);
    expect(screen.getByRole("heading", { name: "Jobs" })).toBeTruthy();
    expect(screen.getByRole("note").textContent).toBe("Seeing jobs needs the exporter or importer or auditor or admin role; your roles do not include it.");
    expect(calls).not.toHaveBeenCalled();
  });
});
